/**
 * A real single-node KRaft Apache Kafka broker from Maven Central jars, for tests and local runs
 * (DESIGN.md §9). No Docker: Maven resolves the jars once into the cache, then `java` runs the
 * broker detached so it outlives this script.
 *
 *   tsx scripts/kafka-local.ts start|stop|status     (KAFKA_PORT, default 9092)
 *
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

export const KAFKA_VERSION = '4.1.2';
// Kafka 4.1 logs through slf4j-api 1.7.36, so the binding is log4j-slf4j-impl (the slf4j 1.x
// one); log4j-slf4j2-impl would leave slf4j on its no-op logger and the broker silent.
const LOG4J_VERSION = '2.24.3';
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;
const JARS_MARKER = '.jars-complete';

export interface LocalKafka {
  /** `127.0.0.1:<port>`, never `localhost` (Node 20 may resolve that to ::1). */
  brokers: string;
  /** False when a broker was already answering on the port; then `stop()` leaves it alone. */
  startedByUs: boolean;
  stop(): Promise<void>;
}

export interface LocalKafkaOptions {
  port?: number;
  /** Progress lines; default stderr. */
  say?: (line: string) => void;
  /**
   * Wipe the port's data dir before starting a broker (not when one is already up). Test runs
   * use it: every run leaves dozens of topics behind, and each one slows the next start.
   */
  fresh?: boolean;
}

/** `${CHANGEGATE_CACHE:-~/.cache/changegate}/kafka-4.1.2` */
export function kafkaHome(): string {
  const cache = process.env.CHANGEGATE_CACHE ?? join(homedir(), '.cache', 'changegate');
  return join(cache, `kafka-${KAFKA_VERSION}`);
}

function defaultPort(): number {
  return Number(process.env.KAFKA_PORT ?? 9092);
}

const sayStderr = (line: string): void => void process.stderr.write(`[kafka-local] ${line}\n`);

/**
 * Resolve the broker, tools and logging jars with Maven into `<home>/libs` (skipped once the
 * marker exists).
 * @returns the libs directory
 * @throws Error with Maven's output when resolution fails
 */
export async function ensureKafkaJars(say = sayStderr): Promise<string> {
  const home = kafkaHome();
  const libs = join(home, 'libs');
  if (existsSync(join(home, JARS_MARKER))) return libs;
  mkdirSync(libs, { recursive: true });
  const dep = (g: string, a: string, v: string) =>
    `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  writeFileSync(
    join(home, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>dev.changegate</groupId><artifactId>kafka-local</artifactId><version>1</version><packaging>pom</packaging>
<dependencies>
${dep('org.apache.kafka', 'kafka_2.13', KAFKA_VERSION)}
${dep('org.apache.kafka', 'kafka-tools', KAFKA_VERSION)}
${dep('org.apache.logging.log4j', 'log4j-api', LOG4J_VERSION)}
${dep('org.apache.logging.log4j', 'log4j-core', LOG4J_VERSION)}
${dep('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION)}
</dependencies></project>
`,
  );
  say(`resolving Kafka ${KAFKA_VERSION} jars with Maven into ${libs} (first run only)`);
  const args = ['-q', '-B', '-f', join(home, 'pom.xml'), 'dependency:copy-dependencies'];
  args.push(`-DoutputDirectory=${libs}`, '-DincludeScope=runtime');
  const code = await new Promise<number>((resolve, reject) => {
    const mvn = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    mvn.stdout.on('data', (b: Buffer) => (out += b.toString()));
    mvn.stderr.on('data', (b: Buffer) => (out += b.toString()));
    mvn.on('error', (err) => reject(new Error(`cannot run mvn: ${err.message}`, { cause: err })));
    mvn.on('close', (c) =>
      c === 0 ? resolve(0) : reject(new Error(`mvn failed (${c}):\n${out}`)),
    );
  });
  if (code !== 0 || !existsSync(join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`))) {
    throw new Error(`Maven did not produce kafka_2.13-${KAFKA_VERSION}.jar in ${libs}`);
  }
  writeFileSync(join(home, JARS_MARKER), new Date().toISOString());
  return libs;
}

/** True when a Metadata request to `brokers` succeeds (an open port is not enough). */
export async function isKafkaUp(brokers: string | string[]): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'changegate-kafka-local',
    brokers: typeof brokers === 'string' ? brokers.split(',') : brokers,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function paths(port: number) {
  const data = join(kafkaHome(), `data-${port}`);
  return {
    data,
    logDirs: join(data, 'logs'),
    props: join(data, 'server.properties'),
    log4j: join(data, 'log4j2.properties'),
    stdout: join(data, 'broker.out'),
    pid: join(data, 'broker.pid'),
  };
}

function serverProperties(port: number, logDirs: string): string {
  const controller = port + 1000;
  return `# generated by scripts/kafka-local.ts (DESIGN.md §9)
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controller}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${logDirs}
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
`;
}

function log4jProperties(dataDir: string): string {
  return `# generated by scripts/kafka-local.ts
status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${join(dataDir, 'server.log')}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
`;
}

function readPid(pidFile: string): number | null {
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Alive and, where /proc exists, really our broker (a stale pid file may name a reused pid). */
function isBrokerProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const cmdline = `/proc/${pid}/cmdline`;
  return (
    !existsSync('/proc') ||
    (existsSync(cmdline) && readFileSync(cmdline, 'utf8').includes('kafka.Kafka'))
  );
}

function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Kafka cluster id: 16 random bytes, base64url; like Kafka's Uuid it must not start with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Start a broker on `port` unless one already answers there (idempotent), and wait until it
 * serves Metadata.
 * @throws Error with the broker log tail when it does not come up within 90 s
 */
export async function startLocalKafka(options: LocalKafkaOptions = {}): Promise<LocalKafka> {
  const { port = defaultPort(), say = sayStderr, fresh = false } = options;
  const brokers = `127.0.0.1:${port}`;
  const p = paths(port);
  const stop = async () => void (await stopLocalKafka({ port, say }));
  if (await isKafkaUp(brokers)) return { brokers, startedByUs: false, stop: async () => {} };

  const libs = await ensureKafkaJars(say);
  let pid = readPid(p.pid);
  const running = pid !== null && isBrokerProcess(pid);
  if (fresh && !running) rmSync(p.data, { recursive: true, force: true });
  const classpath = `${libs}/*`;
  mkdirSync(p.logDirs, { recursive: true });
  writeFileSync(p.props, serverProperties(port, p.logDirs));
  writeFileSync(p.log4j, log4jProperties(p.data));

  if (!running) {
    if (!existsSync(join(p.logDirs, 'meta.properties'))) {
      const format = spawnSync(
        'java',
        [
          '-cp',
          classpath,
          `-Dlog4j2.configurationFile=${p.log4j}`,
          'kafka.tools.StorageTool',
        ].concat(['format', '-t', clusterId(), '-c', p.props]),
        { encoding: 'utf8' },
      );
      if (format.status !== 0) {
        throw new Error(`kafka storage format failed:\n${format.stdout}${format.stderr}`);
      }
    }
    const out = openSync(p.stdout, 'a');
    const child = spawn(
      'java',
      ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', '-Djava.awt.headless=true'].concat([
        `-Dlog4j2.configurationFile=${p.log4j}`,
        `-Dkafka.logs.dir=${p.data}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        p.props,
      ]),
      { detached: true, stdio: ['ignore', out, out] },
    );
    child.unref();
    closeSync(out);
    pid = child.pid ?? null;
    if (pid === null) throw new Error('java did not start');
    writeFileSync(p.pid, String(pid));
    say(`started broker pid ${pid} on ${brokers} (logs: ${p.data})`);
  } else {
    say(`broker pid ${pid} is starting; waiting for it`);
  }
  const brokerPid = pid as number;

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await isKafkaUp(brokers)) return { brokers, startedByUs: true, stop };
    if (!isBrokerProcess(brokerPid)) break;
    await sleep(250);
  }
  const reason = isBrokerProcess(brokerPid) ? 'did not answer within 90 s' : 'exited';
  const log = `${tail(p.stdout)}\n--- server.log ---\n${tail(join(p.data, 'server.log'))}`;
  throw new Error(`[kafka-local] broker on ${brokers} ${reason}:\n${log}`);
}

/**
 * SIGTERM the broker started for `port` and wait for it to exit (SIGKILL after 30 s).
 * @returns false when no broker of ours was running there
 */
export async function stopLocalKafka(options: LocalKafkaOptions = {}): Promise<boolean> {
  const { port = defaultPort(), say = sayStderr } = options;
  const p = paths(port);
  const pid = readPid(p.pid);
  if (pid === null || !isBrokerProcess(pid)) {
    rmSync(p.pid, { force: true });
    return false;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isBrokerProcess(pid) && Date.now() < deadline) await sleep(100);
  if (isBrokerProcess(pid)) {
    say(`broker pid ${pid} ignored SIGTERM for 30 s; killing it`);
    process.kill(pid, 'SIGKILL');
    while (isBrokerProcess(pid)) await sleep(100);
  }
  rmSync(p.pid, { force: true });
  say(`stopped broker pid ${pid} on 127.0.0.1:${port}`);
  return true;
}

/**
 * SIGKILL the broker started for `port` (no controlled shutdown, no flush beyond the OS page
 * cache) and wait until it is gone; for tests that crash their own broker on purpose.
 * @returns false when no broker of ours was running there
 */
export async function killLocalKafka(options: LocalKafkaOptions = {}): Promise<boolean> {
  const pid = readPid(paths(options.port ?? defaultPort()).pid);
  if (pid === null || !isBrokerProcess(pid)) return false;
  process.kill(pid, 'SIGKILL');
  while (isBrokerProcess(pid)) await sleep(50);
  return true;
}

async function main(command: string | undefined): Promise<number> {
  const port = defaultPort();
  switch (command) {
    case 'start': {
      const started = Date.now();
      const kafka = await startLocalKafka({ port });
      const how = kafka.startedByUs ? 'started' : 'already up';
      sayStderr(`${how} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      process.stdout.write(`${kafka.brokers}\n`);
      return 0;
    }
    case 'stop':
      if (!(await stopLocalKafka({ port }))) sayStderr(`no local broker on port ${port}`);
      return 0;
    case 'status': {
      const up = await isKafkaUp(`127.0.0.1:${port}`);
      const pid = readPid(paths(port).pid);
      process.stdout.write(`${up ? 'up' : 'down'} 127.0.0.1:${port}${pid ? ` pid ${pid}` : ''}\n`);
      return up ? 0 : 1;
    }
    default:
      process.stderr.write('usage: tsx scripts/kafka-local.ts start|stop|status\n');
      return 2;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv[2]).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
