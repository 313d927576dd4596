import type { KeyObject } from 'node:crypto';

/**
 * Private keys by encryption certificate ID: the current certificate and, while rotating, the
 * previous one. Keys are parsed KeyObjects so no notification pays for PEM parsing.
 */
export class DecryptionKeyRing {
	private readonly keys: ReadonlyMap<string, KeyObject>;

	constructor(entries: ReadonlyArray<{ certificateId: string; privateKey: KeyObject }>) {
		this.keys = new Map(entries.map((entry) => [entry.certificateId, entry.privateKey]));
	}

	keyFor(certificateId: string): KeyObject | undefined {
		return this.keys.get(certificateId);
	}

	get certificateIds(): string[] {
		return [...this.keys.keys()];
	}
}
