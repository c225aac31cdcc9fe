/**
 * Child process for file-crash.test.ts (does nothing unless run with --run):
 * a file sink behind a disk spool, fed numbered events as fast as a tight
 * loop allows, reporting on stdout each group once enqueueStrings() has returned.
 *
 *   node file-crash-child.js --run <logDir> <spoolDir> <firstN> <count|-1>
 */
import { writeSync } from 'node:fs';
import { FileSink } from '../../src/sinks/file/file-sink';
import { SinkDriver } from '../../src/sinks/sink-driver';
import { DiskSpool } from '../../src/sinks/spool/disk-spool';
import { enqueueStrings } from '../support/string-lines';

async function main(): Promise<void> {
  const [logDir, spoolDir, firstStr, countStr] = process.argv.slice(3);
  const sink = new FileSink({ loggerPath: logDir, rotateSizeBytes: 1 << 20, rotateMaxFiles: 1000 });
  const driver = new SinkDriver(sink, new DiskSpool({ dir: spoolDir, fsync: 'never', maxBytes: 1 << 30 }), {
    lingerMs: 2, maxBatchLines: 2000, maxBatchBytes: 2 << 20,
  });
  await driver.start();
  writeSync(1, 'started\n');
  let n = Number(firstStr);
  const end = Number(countStr) < 0 ? Infinity : n + Number(countStr);
  const pad = 'p'.repeat(700);
  const group: string[] = [];
  const tick = (): void => {
    group.length = 0;
    for (let i = 0; i < 400 && n < end; i++, n++) group.push(`{"n":${n},"pad":"${pad}"}`);
    if (group.length > 0) {
      enqueueStrings(driver, group, Number(process.hrtime.bigint()));
      writeSync(1, `accepted ${n - 1}\n`);
    }
    if (n < end) {
      setTimeout(tick, 1);
      return;
    }
    void driver.close(60_000).then(() => {
      const s = driver.stats();
      writeSync(1, `closed delivered=${s.deliveredEvents} dropped=${JSON.stringify(s.droppedEvents)}\n`);
    });
  };
  tick();
}

if (process.argv[2] === '--run') {
  main().catch((err) => {
    writeSync(2, `child failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
