// Minimal types for the untyped reference packages the tests and benches compare against.
declare module 'dxt-js' {
  const dxt: {
    compress(rgba: Uint8Array, width: number, height: number, flags: number): Uint8Array;
    decompress(blocks: Uint8Array, width: number, height: number, flags: number): Uint8Array;
    flags: Record<
      | 'DXT1'
      | 'DXT3'
      | 'DXT5'
      | 'ColourIterativeClusterFit'
      | 'ColourClusterFit'
      | 'ColourRangeFit'
      | 'ColourMetricPerceptual'
      | 'ColourMetricUniform'
      | 'WeightColourByAlpha',
      number
    >;
  };
  export default dxt;
}

declare module 'decode-dxt' {
  const decodeDXT: ((view: DataView, width: number, height: number, format?: string) => Uint8Array) & {
    dxt1: string;
    dxt5: string;
  };
  export default decodeDXT;
}

declare module 'parse-dds' {
  interface ParsedDDS {
    format: string;
    shape: [number, number];
    images: { offset: number; length: number; shape: [number, number] }[];
  }
  const parseDDS: (buffer: ArrayBuffer) => ParsedDDS;
  export default parseDDS;
}
