import { consulFiltersSchema } from './consul-source.schema';
import { ServiceFilter } from './service-filter';

const filter = (f: object = {}) => new ServiceFilter(consulFiltersSchema.parse(f));

describe('ServiceFilter.skipReason', () => {
  it.each<[object, string, string[], string | undefined]>([
    [{}, 'web', [], undefined],
    [{}, 'consul', [], 'consul_service'],
    [{ includeConsul: true }, 'consul', [], undefined],
    [{ deny: ['legacy-*'] }, 'legacy-db', [], 'denied'],
    [{ allow: ['web*', 'api'], deny: ['web-old'] }, 'web-old', [], 'denied'],
    [{ allow: ['web*'] }, 'api', [], 'not_allowed'],
    [{ allow: ['web*'] }, 'web2', [], undefined],
    [{ requiredTags: ['mesh'] }, 'web', ['v1'], 'missing_required_tag'],
    [{ requiredTags: ['mesh'] }, 'web', ['v1', 'mesh'], undefined],
    // forbidden tags are per instance: a service is not skipped because one instance has one
    [{ forbiddenTags: ['canary'] }, 'web', ['canary'], undefined],
  ])('%j %s %j -> %s', (f, name, tags, reason) => expect(filter(f).skipReason(name, tags)).toBe(reason));
});

describe('ServiceFilter per instance and expressions', () => {
  it('applies required and forbidden tags per instance', () => {
    const f = filter({ requiredTags: ['mesh'], forbiddenTags: ['canary'] });
    expect(f.instanceTagsPass(['mesh'])).toBe(true);
    expect(f.instanceTagsPass(['mesh', 'canary'])).toBe(false);
    expect(f.instanceTagsPass([])).toBe(false);
  });
  it('leaves proxies out server-side unless asked, and combines with the configured expression', () => {
    expect(filter().catalogExpression()).toBe('ServiceKind == ""');
    expect(filter({ includeConnect: true }).catalogExpression()).toBeUndefined();
    expect(filter({ catalogExpression: 'ServiceMeta.team == "a"' }).catalogExpression()).toBe('(ServiceMeta.team == "a") and ServiceKind == ""');
  });
});
