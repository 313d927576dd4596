/**
 * Long loops on the event loop hand it back once a slice has used this much time, so other requests
 * (Graph's next delivery, whose 3 s clock is running) never wait behind a big batch.
 */
export const SLICE_MS = 5;

export class TimeSlicer {
	private sliceStart = performance.now();

	constructor(private readonly sliceMs = SLICE_MS) {}

	/** True once the current slice is used up; then `yield` before going on. */
	get due(): boolean {
		return performance.now() - this.sliceStart > this.sliceMs;
	}

	async yield(): Promise<void> {
		await new Promise<void>((resolve) => setImmediate(resolve));
		this.sliceStart = performance.now();
	}
}
