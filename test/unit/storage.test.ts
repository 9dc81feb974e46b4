// Storage layer, the parts that need no root: LXC's overlay rootfs syntax (several lower
// layers, workdir beside UPPER), the overlay spec, and the config rewrite of a copy.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as V from '../../src/config/lxc-values.js';
import { configToSpec, overlayWorkDir } from '../../src/config/lxc-to-spec.js';
import { parseConfig, entries } from '../../src/config/lxc-parse.js';
import { rewriteConfig } from '../../src/storage/copy.js';
import { overlayRootfsPath } from '../../src/storage/overlay.js';
import { overlayMountData } from '../../src/plan/compile.js';

test('overlay rootfs path: LXC syntax, several lower layers (UPPER after the last ":/")', { timeout: 10000 }, () => {
  assert.deepEqual(V.rootfsPath('overlay:/var/lib/lxts/c1/rootfs:/var/lib/lxts/c2/overlay/delta'), { backend: 'overlay', lower: '/var/lib/lxts/c1/rootfs', upper: '/var/lib/lxts/c2/overlay/delta' });
  assert.deepEqual(V.rootfsPath('overlay:/l1:/l2:/l3:/up'), { backend: 'overlay', lower: '/l1:/l2:/l3', upper: '/up' });
  assert.deepEqual(V.rootfsPath('overlayfs:/a:/b'), { backend: 'overlay', lower: '/a', upper: '/b' });
  assert.throws(() => V.rootfsPath('overlay:/only'), /overlay:LOWERDIR:UPPERDIR/);
  assert.throws(() => V.rootfsPath('overlay:rel:/up'), /overlay:LOWERDIR:UPPERDIR|absolute/);
  assert.equal(overlayRootfsPath(['/l1', '/l2'], '/up'), 'overlay:/l1:/l2:/up');
  assert.deepEqual(V.rootfsPath(overlayRootfsPath(['/l1', '/l2'], '/up')), { backend: 'overlay', lower: '/l1:/l2', upper: '/up' }, 'round trip');
});

test('overlay workdir sits beside UPPER, as in LXC', { timeout: 10000 }, () => {
  assert.equal(overlayWorkDir('/var/lib/lxts/c2/overlay/delta'), '/var/lib/lxts/c2/overlay/work');
  assert.equal(overlayWorkDir('/var/lib/lxc/c2/delta0/'), '/var/lib/lxc/c2/work');
});

test('overlay config becomes an overlay rootfs spec; mount targets below any layer are relative', { timeout: 10000 }, () => {
  const doc = parseConfig([
    'lxc.rootfs.path = overlay:/base/rootfs:/mid/rootfs:/c/overlay/delta',
    'lxc.mount.entry = /srv /base/rootfs/srv none bind,create=dir 0 0',
    'lxc.mount.entry = /opt /mid/rootfs/opt none bind,create=dir 0 0',
  ].join('\n') + '\n', '/c/config');
  const c = configToSpec({ entries: entries(doc), file: '/c/config' }, { name: 'c' });
  assert.deepEqual(c.problems, []);
  assert.deepEqual(c.spec.rootfs, { kind: 'overlay', lower: ['/base/rootfs', '/mid/rootfs'], upper: '/c/overlay/delta', work: '/c/overlay/work', readonly: false });
  assert.deepEqual(c.spec.mounts.map((m) => m.target), ['/srv', '/opt']);
  assert.equal(overlayMountData(c.spec.rootfs), 'lowerdir=/base/rootfs:/mid/rootfs,upperdir=/c/overlay/delta,workdir=/c/overlay/work');
  const ro = configToSpec({ entries: entries(parseConfig('lxc.rootfs.path = overlay:/b:/c/d\nlxc.rootfs.options = ro\n', '/c/config')) });
  assert.equal(ro.spec.rootfs.readonly, true);
});

test('a copied config: name, rootfs and paths below the old dir rewritten, everything else byte for byte', { timeout: 10000 }, () => {
  const text = [
    '# my web server',
    'lxc.uts.name = web',
    '  lxc.rootfs.path = dir:/var/lib/lxts/web/rootfs   ',
    '',
    '# logs next to the container',
    'lxc.console.logfile = /var/lib/lxts/web/console.log',
    'lxc.mount.entry = /var/lib/lxts/web-data srv none bind 0 0',
    'lxc.mount.fstab = /var/lib/lxts/web/fstab',
    'lxc.net.0.type = veth',
    'lxc.net.0.hwaddr = 00:16:3e:12:34:56',
    'lxc.net.1.type = veth',
    'lxc.net.1.hwaddr = 00:16:3e:xx:xx:xx',
    'lxc.cap.drop = sys_module',
  ].join('\r\n') + '\r\n';
  const out = rewriteConfig(text, '/var/lib/lxts/web/config', {
    name: 'web2', srcDir: '/var/lib/lxts/web', destDir: '/var/lib/lxts/web2', rootfs: 'overlay:/var/lib/lxts/web/rootfs:/var/lib/lxts/web2/overlay/delta', ephemeral: true, header: 'copy of web',
  });
  const lines = out.split('\r\n');
  assert.equal(lines[0], '# copy of web', 'header first, in the file\'s line ending');
  assert.ok(lines.includes('# my web server') && lines.includes('# logs next to the container') && lines.includes(''), 'comments and blank lines kept');
  assert.ok(lines.includes('lxc.uts.name = web2'));
  assert.ok(lines.includes('  lxc.rootfs.path = overlay:/var/lib/lxts/web/rootfs:/var/lib/lxts/web2/overlay/delta'), 'rewritten in place, indentation kept');
  assert.ok(lines.includes('lxc.console.logfile = /var/lib/lxts/web2/console.log'));
  assert.ok(lines.includes('lxc.mount.fstab = /var/lib/lxts/web2/fstab'));
  assert.ok(lines.includes('lxc.mount.entry = /var/lib/lxts/web-data srv none bind 0 0'), 'a sibling dir with a common prefix is not the container\'s');
  assert.ok(lines.includes('lxc.ephemeral = 1'));
  assert.ok(lines.includes('lxc.net.1.hwaddr = 00:16:3e:xx:xx:xx'), 'a MAC template stays');
  const mac = lines.find((l) => l.startsWith('lxc.net.0.hwaddr'))!;
  assert.match(mac, /^lxc\.net\.0\.hwaddr = 00:16:3e:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
  assert.notEqual(mac, 'lxc.net.0.hwaddr = 00:16:3e:12:34:56', 'a fixed MAC gets a new host part');
  assert.ok(lines.includes('lxc.cap.drop = sys_module'));
  // And the result reads back as the new container.
  const c = configToSpec({ entries: entries(parseConfig(out, '/var/lib/lxts/web2/config')) });
  assert.equal(c.spec.hostname, 'web2');
  assert.equal(c.stored.ephemeral, true);
  assert.equal(c.spec.rootfs.kind, 'overlay');
  const keep = rewriteConfig(text, '/x/config', { name: 'web3', srcDir: '/var/lib/lxts/web', destDir: '/srv/web3', rootfs: 'dir:/srv/web3/rootfs', newMacs: false });
  assert.ok(keep.includes('lxc.net.0.hwaddr = 00:16:3e:12:34:56') && keep.startsWith('# my web server'), 'no header when none is asked for');
});
