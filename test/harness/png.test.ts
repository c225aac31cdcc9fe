import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { countColor, decodePng } from '../support/png';

function crcless(type: string, body: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(body.length, 0);
  h.write(type, 4, 'latin1');
  return Buffer.concat([h, body, Buffer.alloc(4)]); // the reader does not check CRCs
}

test('decodes every scanline filter of an RGB PNG', () => {
  // 2×5 image: rows with filters 0..4; pixel (x, y) = (10y+x, 100, 200-y).
  const w = 2;
  const h = 5;
  const rows: number[] = [];
  const px = (x: number, y: number) => [10 * y + x, 100, 200 - y];
  for (let y = 0; y < h; y++) {
    rows.push(y); // filter type
    for (let x = 0; x < w; x++) {
      const cur = px(x, y);
      const left = x > 0 ? px(x - 1, y) : [0, 0, 0];
      const up = y > 0 ? px(x, y - 1) : [0, 0, 0];
      const ul = x > 0 && y > 0 ? px(x - 1, y - 1) : [0, 0, 0];
      for (let k = 0; k < 3; k++) {
        let pred = 0;
        if (y === 1) pred = left[k];
        if (y === 2) pred = up[k];
        if (y === 3) pred = (left[k] + up[k]) >> 1;
        if (y === 4) {
          const p = left[k] + up[k] - ul[k];
          const pa = Math.abs(p - left[k]);
          const pb = Math.abs(p - up[k]);
          const pc = Math.abs(p - ul[k]);
          pred = pa <= pb && pa <= pc ? left[k] : pb <= pc ? up[k] : ul[k];
        }
        rows.push((cur[k] - pred) & 0xff);
      }
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), crcless('IHDR', ihdr),
    crcless('IDAT', deflateSync(Buffer.from(rows))), crcless('IEND', Buffer.alloc(0))]);
  const img = decodePng(png);
  assert.equal(img.width, 2);
  assert.equal(img.height, 5);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    assert.deepEqual([...img.data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)], px(x, y), `pixel ${x},${y}`);
  }
  assert.equal(countColor(img, [41, 100, 196], 0), 1);
});
