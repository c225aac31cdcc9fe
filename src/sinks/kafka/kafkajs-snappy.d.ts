/** kafkajs-snappy ships no types: it exports kafkajs's codec factory shape. */
declare module 'kafkajs-snappy' {
  const createSnappyCodec: () => {
    compress(encoder: { buffer: Buffer }): Promise<Buffer>;
    decompress(buffer: Buffer): Promise<Buffer>;
  };
  export = createSnappyCodec;
}
