import type { Migration, MigrationProvider } from 'kysely';
import { initial } from './0001_initial.js';
import { services } from './0002_services.js';
import { snapshots } from './0003_snapshots.js';
import { quotas } from './0004_quotas.js';
import { capabilities } from './0005_capabilities.js';
import { typeAccess } from './0006_type_access.js';
import { backups } from './0009_backups.js';
import { groups } from './0007_groups.js';
import { qosSpecs } from './0010_qos_specs.js';
import { frozenServices } from './0012_frozen_services.js';
import { transfers } from './0008_transfers.js';

// Migrations are compiled into the service rather than read from a folder at run time,
// so an installed package cannot run with a migration set different from its code.
// Names sort in the order they must run; never rename or edit one that has shipped.
const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_services': services,
  '0003_snapshots': snapshots,
  '0004_quotas': quotas,
  '0005_capabilities': capabilities,
  '0006_type_access': typeAccess,
  '0009_backups': backups,
  '0007_groups': groups,
  '0010_qos_specs': qosSpecs,
  '0012_frozen_services': frozenServices,
  '0008_transfers': transfers,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
