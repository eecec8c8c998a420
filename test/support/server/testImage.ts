import sharp from 'sharp';

/**
 * A bright test image whose every pixel is far from black, so tests can tell
 * image content from the black padding of edge tiles. Colour follows x and y.
 */
export async function makeTestImage(file: string, width: number, height: number): Promise<void> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = 80 + Math.round((175 * x) / width);
      data[i + 1] = 80 + Math.round((175 * y) / height);
      data[i + 2] = 200;
    }
  }
  await sharp(data, { raw: { width, height, channels: 3 } }).toFile(file);
}
