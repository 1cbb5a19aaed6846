/** The part of jsfive 0.4 (pure-JS HDF5 reader, no bundled types) that the Keras readers use. */
declare module 'jsfive' {
  export type AttrValue = string | number | bigint | boolean | AttrValue[] | null;
  export class Group {
    readonly name: string;
    readonly keys: string[];
    readonly attrs: Record<string, AttrValue>;
    get(path: string): Group | Dataset | null;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
  export class Dataset {
    readonly name: string;
    readonly shape: number[];
    /** numpy-style, e.g. `<f4`, `>f8`, `<i8`. */
    readonly dtype: string | object;
    readonly value: ArrayLike<number | bigint> & Iterable<number | bigint>;
    readonly attrs: Record<string, AttrValue>;
  }
}
