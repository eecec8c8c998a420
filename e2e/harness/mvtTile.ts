/**
 * A minimal Mapbox Vector Tile (spec 2.1) for tests: one layer of LineString
 * features in tile coordinates (extent 4096), protobuf written by hand so the
 * fixture needs no encoder package. https://github.com/mapbox/vector-tile-spec/tree/master/2.1
 */
export function mvtTile(layer: string, lines: [number, number][][]): Uint8Array {
  const features = lines.map((pts, i) => {
    const geometry: number[] = [];
    let cx = 0;
    let cy = 0;
    const zigzag = (n: number) => (n << 1) ^ (n >> 31);
    pts.forEach(([x, y], j) => {
      if (j === 0) geometry.push(command(1, 1));
      if (j === 1) geometry.push(command(2, pts.length - 1));
      geometry.push(zigzag(x - cx), zigzag(y - cy));
      cx = x;
      cy = y;
    });
    // id (1), type (3) = LINESTRING (2), geometry (4) packed
    return [
      ...field(1, 0, varint(i + 1)),
      ...field(3, 0, varint(2)),
      ...bytesField(4, geometry.flatMap(varint)),
    ];
  });
  const body = [
    ...field(15, 0, varint(2)), // version
    ...bytesField(1, [...new TextEncoder().encode(layer)]), // name
    ...features.flatMap((f) => bytesField(2, f)), // features
    ...field(5, 0, varint(4096)), // extent
  ];
  return Uint8Array.from(bytesField(3, body)); // Tile.layers
}

function command(id: number, count: number): number {
  return (id & 0x7) | (count << 3);
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function field(no: number, wire: number, value: number[]): number[] {
  return [...varint((no << 3) | wire), ...value];
}

function bytesField(no: number, bytes: number[]): number[] {
  return field(no, 2, [...varint(bytes.length), ...bytes]);
}
