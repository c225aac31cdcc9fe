/** src/daemon/config/output-files.ts: the files the outputs' options name, in use or secret (issue 11 item 5). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/daemon/config/config';
import { optionSpec } from '../../../src/daemon/config/option-schema';
import { filesInUse, SECRET_FILE_OPTIONS, secretFiles } from '../../../src/daemon/config/output-files';

const values = (flags: string[]) => loadConfig({ argv: ['--config=', ...flags], env: {}, checkFiles: false, host: { cwd: '/', writable: () => true } }).values;
const names = (files: { option: string }[]) => files.map((f) => f.option);

const TLS = ['--tls_hostname=fleet', '--enroll_secret_path=/s', '--tls_client_cert=/c', '--tls_client_key=/k'];
const KAFKA = ['--logger_kafka_brokers=k:9092', '--logger_kafka_topic=t', '--logger_kafka_tls=true', '--logger_kafka_tls_client_cert=/kc',
  '--logger_kafka_tls_client_key=/kk', '--logger_kafka_sasl_mechanism=plain', '--logger_kafka_sasl_username=u', '--logger_kafka_sasl_password_file=/p'];

test('output files: the loader checks those of the outputs in use, in one order', () => {
  assert.deepEqual(filesInUse(values([...TLS, ...KAFKA])), []);
  assert.deepEqual(names(filesInUse(values(['--logger_plugin=tls', ...TLS, ...KAFKA]))), ['enroll_secret_path', 'tls_client_cert', 'tls_client_key']);
  assert.deepEqual(names(filesInUse(values(['--config_plugin=tls', ...TLS]))), ['enroll_secret_path', 'tls_client_cert', 'tls_client_key']);
  assert.deepEqual(filesInUse(values(['--logger_plugin=kafka,tls', ...TLS, ...KAFKA])).map((f) => [f.option, f.path, f.secret]), [
    ['enroll_secret_path', '/s', true], ['tls_client_cert', '/c', false], ['tls_client_key', '/k', true],
    ['logger_kafka_tls_client_cert', '/kc', false], ['logger_kafka_tls_client_key', '/kk', true], ['logger_kafka_sasl_password_file', '/p', true],
  ]);
});

test('output files: check --compliance checks every secret file named, its output enabled or not', () => {
  assert.deepEqual(names(secretFiles(values([...TLS, ...KAFKA]))),
    ['enroll_secret_path', 'tls_client_key', 'logger_kafka_tls_client_key', 'logger_kafka_sasl_password_file']);
  assert.deepEqual(secretFiles(values([])), []);
  assert.deepEqual(SECRET_FILE_OPTIONS, names(secretFiles(values([...TLS, ...KAFKA]))));
  assert.match(optionSpec('allow_insecure_secret_files').doc, new RegExp(`^Secret files \\(${SECRET_FILE_OPTIONS.join(', ')}\\) must be`));
});
