import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuResults, machineTicks, processTicks, readCpu, startCpuMeter } from '../src/cpu.ts';

test('a process stat line is read after its name, even one with spaces and parentheses', () => {
  const stat = '4242 (postgres: x (y) z) S 1 4242 4242 0 -1 4194560 120 0 0 0 731 269 55 45 20 0 1 0 100 1000 50';
  assert.deepEqual(processTicks(stat), { name: 'postgres: x (y) z', own: 1000, reaped: 100 });
});

test('the machine is busy for user, nice, system, irq and softirq, not idle, iowait or steal', () => {
  const procStat = 'cpu  100 20 300 9000 400 5 6 700 0 0\ncpu0 50 10 150 4500 200 2 3 350 0 0\n';
  assert.equal(machineTicks(procStat), 431);
});

test('the meter charges a busy loop in this process to the driver and the machine', () => {
  const meter = startCpuMeter({ workers: [], nats: undefined });
  // spin until this process has used 300 ms of CPU, however busy the machine is
  const used = (): number => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const until = used() + 300;
  while (used() < until);
  const perUnit = meter.stop(1);
  // 300 ms of CPU, read in ticks of 10 ms, in µs per unit
  assert.ok(perUnit.driver >= 270_000 && perUnit.driver < 1_000_000, `driver ${perUnit.driver}`);
  assert.ok(perUnit.machine >= perUnit.driver - 20_000, `machine ${perUnit.machine}`);
  assert.equal(perUnit.workers, 0);
  assert.ok(readCpu({ workers: [], nats: undefined }).machine > 0);
});

test('the CPU table gives the median of the rounds per phase and group', () => {
  const cpu = new CpuResults();
  const round = (machine: number) => ({ machine, driver: 1, workers: 2, nats: 3, postgres: 4, redis: 0 });
  for (const machine of [30, 10, 20]) cpu.add('task_path.jetcel', 'task', round(machine));
  assert.deepEqual(cpu.lines(), [
    'cpu=task_path.jetcel unit=µs/task machine=20.0 driver=1.00 workers=2.00 nats=3.00 postgres=4.00 redis=0.000',
  ]);
  assert.match(
    cpu.markdown(),
    /\| task_path\.jetcel \| task \| 20\.0 \| 1\.00 \| 2\.00 \| 3\.00 \| 4\.00 \| 0\.000 \|/,
  );
  assert.equal(new CpuResults().markdown(), '');
});
