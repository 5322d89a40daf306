import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { eventually, startNats } from '../src/index.ts';
import { RawNats } from './helpers/raw-nats.ts';

function canConnect(port: number): Promise<boolean> {
  return RawNats.connect(port).then(
    (client) => {
      client.close();
      return true;
    },
    () => false,
  );
}

test('startNats: a JetStream server on 127.0.0.1 answers INFO and PING', async () => {
  const nats = await startNats();
  try {
    assert.match(nats.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(nats.url, `nats://127.0.0.1:${nats.port}`);
    assert.notEqual(nats.port, 4222, 'must not be the shared machine server');
    assert.ok(existsSync(nats.storeDir));
    assert.equal(typeof nats.pid, 'number');

    const client = await RawNats.connect(nats.port);
    try {
      assert.equal(client.info['version'], '2.9.10');
      assert.equal(client.info['port'], nats.port);
      assert.equal(client.info['jetstream'], true);
      await client.ping();
      const reply = JSON.parse(await client.request('$JS.API.INFO', '')) as { type?: string };
      assert.equal(reply.type, 'io.nats.jetstream.api.v1.account_info_response');
    } finally {
      client.close();
    }
  } finally {
    await nats[Symbol.asyncDispose]();
  }
});

test('startNats: restart keeps the port and the JetStream store; kill then restart recovers', async () => {
  const nats = await startNats();
  try {
    const { port, storeDir } = nats;
    const firstPid = nats.pid;
    let client = await RawNats.connect(port);
    const created = JSON.parse(
      await client.request(
        '$JS.API.STREAM.CREATE.KEEP',
        JSON.stringify({ name: 'KEEP', subjects: ['keep.>'], storage: 'file' }),
      ),
    ) as { error?: unknown; config?: { name?: string } };
    assert.equal(created.error, undefined);
    assert.equal(created.config?.name, 'KEEP');
    client.close();

    await nats.restart();
    assert.equal(nats.port, port);
    assert.equal(nats.storeDir, storeDir);
    assert.notEqual(nats.pid, firstPid);
    client = await RawNats.connect(port);
    assert.equal(client.info['port'], port);
    const info = JSON.parse(await client.request('$JS.API.STREAM.INFO.KEEP', '')) as {
      error?: unknown;
      config?: { name?: string };
    };
    assert.equal(info.error, undefined, 'the stream survived the restart');
    assert.equal(info.config?.name, 'KEEP');
    client.close();

    nats.kill();
    await eventually(async () => !(await canConnect(port)), {
      timeoutMs: 5_000,
      message: 'killed server still accepts connections',
    });
    await eventually(() => nats.pid === undefined, { timeoutMs: 5_000, message: 'pid still set after kill' });
    await nats.restart();
    assert.equal(await canConnect(port), true);

    await nats.stop();
    assert.equal(await canConnect(port), false, 'stop() waits until the server is gone');
    assert.ok(existsSync(storeDir), 'stop() keeps the store dir');
  } finally {
    await nats[Symbol.asyncDispose]();
  }
  assert.equal(existsSync(nats.storeDir), false, 'dispose removes the store dir');
});

test('startNats: jetstream false, extra config and args', async () => {
  const nats = await startNats({
    jetstream: false,
    config: 'max_payload: 4096\nserver_name: from_config\n',
    args: ['-n', 'from_args'],
  });
  try {
    const client = await RawNats.connect(nats.port);
    client.close();
    assert.equal(client.info['jetstream'], undefined);
    assert.equal(client.info['server_name'], 'from_args', 'args come after the config and win');
    assert.equal(client.info['max_payload'], 4096);
  } finally {
    await nats[Symbol.asyncDispose]();
  }
});

test('startNats: two servers at once get different ports; `await using` disposes them', async () => {
  let storeDirs: string[];
  {
    await using a = await startNats();
    await using b = await startNats();
    assert.notEqual(a.port, b.port);
    assert.notEqual(a.storeDir, b.storeDir);
    storeDirs = [a.storeDir, b.storeDir];
  }
  assert.deepEqual(
    storeDirs.map((dir) => existsSync(dir)),
    [false, false],
  );
});

test('startNats: a bad argument rejects with the server output', async () => {
  await assert.rejects(
    startNats({ args: ['--no-such-flag'] }),
    /nats-server exited .*before it was ready[\s\S]*no-such-flag/,
  );
});
