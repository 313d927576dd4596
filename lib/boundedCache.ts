/**
 * A small insertion-ordered cache with a size cap. Credentials change rarely, but a long-running n8n
 * sees every rotation; the cap keeps superseded keys and clients from piling up for ever.
 */
export class BoundedCache<K, V> {
	private readonly entries = new Map<K, V>();

	constructor(private readonly maxEntries: number) {}

	get(key: K): V | undefined {
		const value = this.entries.get(key);
		if (value !== undefined) {
			// Re-insert so the most recently used entry is evicted last.
			this.entries.delete(key);
			this.entries.set(key, value);
		}
		return value;
	}

	set(key: K, value: V): void {
		this.entries.delete(key);
		this.entries.set(key, value);
		while (this.entries.size > this.maxEntries) {
			const oldest = this.entries.keys().next().value as K;
			this.entries.delete(oldest);
		}
	}

	getOrCreate(key: K, create: () => V): V {
		const existing = this.get(key);
		if (existing !== undefined) return existing;
		const created = create();
		this.set(key, created);
		return created;
	}

	delete(key: K): void {
		this.entries.delete(key);
	}

	get size(): number {
		return this.entries.size;
	}

	clear(): void {
		this.entries.clear();
	}
}
