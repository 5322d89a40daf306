import type { SqlMigration } from '../migrate.ts';
import { settledHandlerKeyedWaiters } from './m014-settled-handler-keyed-waiters.ts';
import { rewritten } from './rewrite.ts';

const [, , m014PassSql = ''] = settledHandlerKeyedWaiters.up;

const WAITER_TAKEN =
  /( {4})select w\.execution_id, w\.step_id into v_waiter, v_step_id from jetcel_throttle_waiter w\n([\s\S]*?)\n {4}if v_waiter is not null then\n([\s\S]*?)\n {6}end if;\n {4}end if;\n/g;

// The first ready waiter, as many times as one was claimed by its own delivery between the read and
// the claim (a waiter made due for a free slot): each read is a new snapshot, where it is no longer ready.
const NEXT_WAITER = `$1for v_try in 1..4 loop
    select w.execution_id, w.step_id into v_waiter, v_step_id from jetcel_throttle_waiter w
$2
    exit when v_waiter is null;
$3
      end if;
    end loop;
`;

/**
 * A span's end hands its slot to the next ready waiter when the first one it picked was claimed
 * meanwhile by its own delivery (its step no longer queued when the hand-over claims it), instead
 * of freeing the slot while waiters are ready.
 */
export const passNextWaiter: SqlMigration = {
  name: 'm017_pass_next_waiter',
  up: [
    rewritten('m017', m014PassSql, [
      [/ {2}v_round int;\n/, '  v_round int;\n  v_try int;\n', 1],
      [WAITER_TAKEN, NEXT_WAITER, 1],
    ]),
  ],
  down: [m014PassSql],
};
