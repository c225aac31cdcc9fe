/**
 * Registers the compression codecs kafkajs lacks, once per process:
 * snappy from kafkajs-snappy; lz4 and zstd as adapters over native
 * libraries. kafkajs keeps codecs in one global table, so consumers in the
 * same process (tests) decode with the same ones.
 *
 * lz4 must be lz4-napi's frame format: lz4js writes frames with dependent
 * blocks, which the broker refuses (UNKNOWN_SERVER_ERROR, "Dependent block
 * stream is unsupported"). zstd level 3 is the library's and Kafka's default.
 */
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import * as zstd from '@mongodb-js/zstd';
import * as lz4 from 'lz4-napi';
import createSnappyCodec = require('kafkajs-snappy');
import type { KafkaCompression } from './config';

interface Encoder {
  buffer: Buffer;
}

const ZSTD_LEVEL = 3;

let registered = false;

export function registerKafkaCodecs(): void {
  if (registered) return;
  registered = true;
  const codecs = CompressionCodecs as Record<number, () => unknown>;
  codecs[CompressionTypes.Snappy] = createSnappyCodec;
  codecs[CompressionTypes.LZ4] = () => ({
    compress: (encoder: Encoder) => lz4.compressFrame(encoder.buffer),
    decompress: (buffer: Buffer) => lz4.decompressFrame(buffer),
  });
  codecs[CompressionTypes.ZSTD] = () => ({
    compress: (encoder: Encoder) => zstd.compress(encoder.buffer, ZSTD_LEVEL),
    decompress: (buffer: Buffer) => zstd.decompress(buffer),
  });
}

export function compressionType(name: KafkaCompression): CompressionTypes {
  switch (name) {
    case 'none': return CompressionTypes.None;
    case 'gzip': return CompressionTypes.GZIP;
    case 'snappy': return CompressionTypes.Snappy;
    case 'lz4': return CompressionTypes.LZ4;
    case 'zstd': return CompressionTypes.ZSTD;
  }
}
