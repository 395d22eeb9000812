import { describe, expect, it } from 'vitest';
import { Dictionary } from '../../../../src/sandbox/servicenow/dictionary.js';
import raw from '../../../../src/sandbox/servicenow/dictionary.json' with { type: 'json' };

describe('sandbox table dictionary', () => {
  const dict = new Dictionary();

  it('cites a source for every table', () => {
    for (const [name, table] of Object.entries(raw.tables)) {
      expect(table.source, name).toMatch(/\S{8,}/);
    }
  });

  it('merges parent columns: change_request has the task columns and its own', () => {
    expect(dict.column('change_request', 'short_description')?.type).toBe('string');
    expect(dict.column('change_request', 'sys_id')?.type).toBe('GUID');
    expect(dict.choiceLabel('change_request', 'state', '-4')).toBe('Assess');
    expect(dict.choiceLabel('incident', 'state', '6')).toBe('Resolved');
    expect(dict.referenceOf('change_request', 'assignment_group')).toBe('sys_user_group');
    expect(dict.table('change_request')?.numberPrefix).toBe('CHG');
    expect(dict.column('change_request', 'u_changegate_failures')).toBeUndefined();
  });

  it('knows the CMDB classes and their family, and no cmdb_ci_os_image', () => {
    expect(dict.isA('cmdb_ci_linux_server', 'cmdb_ci_hardware')).toBe(true);
    expect(dict.isA('cmdb_ci_appl', 'cmdb_ci')).toBe(true);
    expect(dict.family('cmdb_ci_service')).toEqual(
      expect.arrayContaining(['cmdb_ci_service', 'cmdb_ci_service_discovered']),
    );
    for (const cls of ['cmdb_ci_docker_image', 'cmdb_ci_os_template', 'cmdb_ci_cloud_os_image'])
      expect(dict.isA(cls, 'cmdb_ci'), cls).toBe(true);
    expect(dict.has('cmdb_ci_os_image')).toBe(false);
  });

  it('takes custom columns and tables an instance adds', () => {
    const custom = new Dictionary({
      incident: { columns: { u_changegate_failures: 'integer' } },
      u_release: { extends: 'task', columns: { u_train: 'string' } },
    });
    expect(custom.column('incident', 'u_changegate_failures')?.type).toBe('integer');
    expect(custom.column('incident', 'caller_id')).toBeDefined();
    expect(custom.column('u_release', 'number')).toBeDefined();
    expect(custom.isA('u_release', 'task')).toBe(true);
  });
});
