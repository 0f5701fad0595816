// The fixtures other integration tests stand on: busybox images built without Docker
// Hub, a real registry, and fast tagging through the Registry HTTP API.
import { randomBytes } from 'node:crypto';
import { buildBusyboxImage, docker, pushImage, removeImages, TEST_LABEL } from '../helpers/fixtures';
import { startRegistry, tagInRegistry, TestRegistry } from '../helpers/registry';

const unique = randomBytes(4).toString('hex');
const image = `run-docker-test/fixtures-${unique}:1`;
/** What this file built or tagged: only these go afterwards (other runs may share the engine). */
const made: string[] = [image];

afterAll(async () => {
  await removeImages(made);
});

describe('buildBusyboxImage', () => {
  it('builds an image that runs busybox sh as root or docker-user', async () => {
    await buildBusyboxImage(image);

    const asRoot = await docker([
      'run',
      '--rm',
      '--label',
      `${TEST_LABEL}=1`,
      image,
      'sh',
      '-c',
      'echo "a  b"; id -un',
    ]);
    expect(asRoot).toMatchObject({ code: 0, stdout: 'a  b\nroot\n' });

    const asUser = await docker([
      'run',
      '--rm',
      '--label',
      `${TEST_LABEL}=1`,
      '--user',
      'docker-user',
      image,
      'sh',
      '-c',
      'id -u; echo "$HOME"; touch "$HOME/x" /tmp/y && stat -c %a /tmp',
    ]);
    expect(asUser).toMatchObject({ code: 0, stdout: '1000\n/home/docker-user\n1777\n' });
  });

  it('adds files, labels and a command', async () => {
    const derived = `run-docker-test/fixtures-${unique}:derived`;
    made.push(derived);
    await buildBusyboxImage(derived, {
      labels: { 'org.run-docker.test.purpose': 'fixtures' },
      files: { '/opt/app/run.sh': '#!/bin/sh\necho "ran with $# args"\n' },
      cmd: ['/opt/app/run.sh', 'one', 'two'],
    });

    const run = await docker(['run', '--rm', '--label', `${TEST_LABEL}=1`, derived]);
    expect(run).toMatchObject({ code: 0, stdout: 'ran with 2 args\n' });
    const labels = await docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', derived], { check: true });
    expect(JSON.parse(labels.stdout)).toEqual({ [TEST_LABEL]: '1', 'org.run-docker.test.purpose': 'fixtures' });
  });
});

describe('startRegistry', () => {
  let registry: TestRegistry | undefined;

  afterEach(async () => {
    await registry?.remove();
  });

  it('serves pushed images, takes tags over HTTP and stops', async () => {
    registry = await startRegistry();
    expect(registry.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const repoPath = `fixtures/busybox-${unique}`;
    const pushed = `${registry.address}/${repoPath}:1`;
    made.push(pushed);
    await buildBusyboxImage(image);
    await docker(['tag', image, pushed], { check: true });

    await pushImage(pushed);

    const catalog = await fetchJson(`http://${registry.address}/v2/_catalog`);
    expect(catalog).toEqual({ repositories: [repoPath] });

    const newTags = ['2', '3', '20240101-000000', 'latest', 'v1.0'];
    await tagInRegistry(registry.address, repoPath, '1', newTags);

    const tags = (await fetchJson(`http://${registry.address}/v2/${repoPath}/tags/list`)) as { tags: string[] };
    expect([...tags.tags].sort()).toEqual(['1', ...newTags].sort());

    await registry.stop();
    await expect(fetch(`http://${registry.address}/v2/`)).rejects.toThrow();
  });
});

async function fetchJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}
