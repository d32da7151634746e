import { type CommandType, fromWire, resultProblem, type ServerFrame, serverFrameProblem } from '@switchboard/protocol';
import { ClientErrorCode, SwitchboardError } from './errors.js';
import type { LinkEvents } from './link.js';

/**
 * What every link that speaks to a hub does with what it read (the links are the Client's
 * boundary with the hub): turns `value`, a parsed frame, into a checked frame for the Client —
 * a publication push from its array form, an `ok` whose result does not fit the request it
 * answers into a failure of that request — or reports a problem. `asked` holds each request
 * awaiting its reply.
 */
export function deliverChecked(
  value: unknown,
  asked: Map<number, CommandType>,
  events: LinkEvents,
  /** What the link makes of a checked frame first (a delta push made whole), or undefined to drop it. */
  transform?: (frame: ServerFrame) => ServerFrame | undefined,
): void {
  const frame = fromWire(value);
  const problem = serverFrameProblem(frame);
  if (problem !== undefined) {
    events.problem(new SwitchboardError(ClientErrorCode.BAD_FRAME, `ignored a bad frame: ${problem}`, false));
    return;
  }
  const checked = transform ? transform(frame as ServerFrame) : (frame as ServerFrame);
  if (checked === undefined) return;
  if (checked.t === 'ok' || checked.t === 'err') {
    const command = asked.get(checked.id);
    asked.delete(checked.id);
    if (checked.t === 'ok' && command && resultProblem(command, checked.r ?? {})) {
      // The request fails rather than waiting for its timeout.
      const msg = `malformed reply to ${command}`;
      events.frame({ t: 'err', id: checked.id, code: ClientErrorCode.BAD_FRAME, msg });
      return;
    }
  }
  events.frame(checked);
}

/** A bad frame that could not even be parsed. */
export function unparsed(events: LinkEvents, why: string): void {
  events.problem(new SwitchboardError(ClientErrorCode.BAD_FRAME, `ignored a bad frame: ${why}`, false));
}
