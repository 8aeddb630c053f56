// The Web Worker leg of scripts/smoke.html: the same fingerprint computed off the main thread.
import { fingerprint } from './smoke.mjs';

try {
  self.postMessage(fingerprint());
} catch (error) {
  self.postMessage({ error: String(error && error.stack ? error.stack : error) });
}
