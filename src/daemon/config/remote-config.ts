/**
 * config_plugin=tls: options from the osquery TLS server (FleetDM's agent
 * options), as osquery's tls config plugin gets them:
 *
 *   POST config_tls_endpoint {"node_key"} → {"options": {...}, ...}
 *
 * with the enrollment the tls output shares (TlsNode), enrolling again on
 * node_invalid. The options become a source of the configuration, between
 * the file and the environment (src/daemon/config/config.ts): the same checks as
 * the file's, all or nothing — a reply with one bad value changes nothing,
 * and the running configuration stays. What the daemon does with a good
 * one (apply what can change live, report the rest as pending) is the
 * daemon's (daemon.ts applyConfig).
 *
 * Loaded only with config_plugin=tls (daemon.ts requires it then): the
 * HTTPS client costs RSS a host without it should not pay.
 */
import { loadConfig, type AncestrydConfig } from './config';
import { diffConfigs, type ConfigDiff } from './config-diff';
import { isAncestrydError } from '../../errors';
import type { RemoteResult } from '../metrics/metrics';
import type { HttpsAnswer } from '../../sinks/tls/https-client';
import { describeError, jsonField, nodeInvalid, type TlsNode } from '../../sinks/tls/tls-node';


export type RemoteFetch =
  | { result: 'applied' | 'unchanged'; config: AncestrydConfig; diff: ConfigDiff }
  | { result: 'invalid' | 'failed'; detail: string };

export class RemoteConfig {
  /** The last fetch's outcome and when (epoch ms), for stats. */
  last: { result: RemoteResult; atMs: number; detail: string | null } | null = null;

  constructor(readonly node: TlsNode, private readonly endpoint: string) {}

  /** The server's options, or why there are none now. */
  async options(): Promise<{ options: Record<string, unknown> } | { failed: string } | { invalid: string }> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const key = await this.node.key();
      if (key === null) return { failed: this.node.lastError ?? 'enrollment failed' };
      let answer: HttpsAnswer;
      try {
        const client = this.node.client;
        if (client === null) return { failed: 'closed' };
        answer = await client.post(this.endpoint, Buffer.from(JSON.stringify({ node_key: key })), {});
      } catch (err) {
        return { failed: `POST ${this.endpoint} failed: ${describeError(err)}` };
      }
      if (nodeInvalid(answer)) {
        this.node.forget(key); // enroll again, once
        continue;
      }
      if (answer.status < 200 || answer.status > 299) return { failed: `POST ${this.endpoint}: HTTP ${answer.status} ${answer.text}` };
      if (answer.json === null || typeof answer.json !== 'object' || Array.isArray(answer.json)) {
        return { invalid: `POST ${this.endpoint}: the reply is not a JSON object: ${answer.text}` };
      }
      const options = jsonField(answer.json, 'options');
      if (options === undefined) return { options: {} }; // a config without options: osquery's defaults
      if (options === null || typeof options !== 'object' || Array.isArray(options)) {
        return { invalid: `POST ${this.endpoint}: "options" is not an object` };
      }
      return { options: options as Record<string, unknown> };
    }
    return { failed: `POST ${this.endpoint}: node_invalid again after enrolling` };
  }

  /** Fetches and builds the configuration `prev` becomes with the server's options. */
  async fetch(prev: AncestrydConfig): Promise<RemoteFetch> {
    const got = await this.options();
    let out: RemoteFetch;
    if ('failed' in got) out = { result: 'failed', detail: got.failed };
    else if ('invalid' in got) out = { result: 'invalid', detail: got.invalid };
    else {
      try {
        const config = loadConfig({ ...prev.loadOptions, remote: got.options });
        const diff = diffConfigs(prev, config);
        const changed = diff.reloadable.length + diff.restartRequired.length > 0;
        out = { result: changed ? 'applied' : 'unchanged', config, diff };
      } catch (err) {
        if (!isAncestrydError(err)) throw err;
        out = { result: 'invalid', detail: err.message };
      }
    }
    this.last = { result: out.result, atMs: Date.now(), detail: 'detail' in out ? out.detail : null };
    return out;
  }
}
