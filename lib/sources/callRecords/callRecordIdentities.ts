/** The identity of a call record, whichever version: its first one run is its `callEnded` item. */
export const recordIdentity = (id: string): string => `callRecord:${id}`;

/** The identity of one version of a call record: each runs once with "Call Record Updated". */
export const recordVersionIdentity = (id: string, version: number): string => `callRecord:${id}@${version}`;
