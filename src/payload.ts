import { dataProblem, encodeData } from '@switchboard/protocol';

/**
 * Publication data from a service's text payload (a Kafka value, a raw Redis PUBLISH). JSON by
 * convention; text that is not JSON, or JSON that is no valid publication data (see
 * dataProblem), is delivered as a string holding the text, so nothing is dropped or retried forever.
 */
export function dataFromText(text: string): Uint8Array {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return encodeData(text);
  }
  return dataProblem(value) === undefined ? encodeData(value) : encodeData(text);
}
