// What BlockStorage offers around volume types beyond create, show, list and extra specs:
// updates, access to private types, encryption, project default types and retype.

import type { RequestContext, VolumeTypeRecord } from './types.js';
import type { VolumeTypePatch } from './volume-types.js';

/** A project that may use a private type. */
export interface TypeAccessRecord {
  volumeTypeId: string;
  projectId: string;
}

/** What an encryption says; a field left out of an update stays as it is. */
export interface EncryptionSpecs {
  provider?: string;
  cipher?: string | null;
  keySize?: number | null;
  controlLocation?: 'front-end' | 'back-end';
}

/** A type's encryption, as stored. */
export interface EncryptionRecord {
  volumeTypeId: string;
  encryptionId: string;
  provider: string | null;
  cipher: string | null;
  keySize: number | null;
  controlLocation: string | null;
  createdAt: Date;
  updatedAt: Date | null;
}

/** The type a project's new volumes get when they name none. */
export interface DefaultTypeRecord {
  projectId: string;
  volumeTypeId: string;
}

export interface RetypeRequest {
  /** The new type, by id or name. */
  newType: string;
  /** Cinder's migration_policy; absent means a migration may happen if one is needed. */
  migrationPolicy: 'never' | 'on-demand' | null;
}

export interface TypeManagement {
  updateVolumeType(ctx: RequestContext, id: string, patch: VolumeTypePatch): Promise<VolumeTypeRecord>;
  /** The type `GET /types/default` names: the project's default type if it has one, else the service's. */
  getDefaultVolumeType(ctx: RequestContext): Promise<VolumeTypeRecord>;

  addTypeAccess(ctx: RequestContext, typeId: string, projectId: string): Promise<void>;
  removeTypeAccess(ctx: RequestContext, typeId: string, projectId: string): Promise<void>;
  listTypeAccess(ctx: RequestContext, typeId: string): Promise<TypeAccessRecord[]>;

  /** null: the type has no encryption. */
  getEncryption(ctx: RequestContext, typeId: string): Promise<EncryptionRecord | null>;
  createEncryption(ctx: RequestContext, typeId: string, specs: EncryptionSpecs): Promise<EncryptionRecord>;
  updateEncryption(ctx: RequestContext, typeId: string, specs: EncryptionSpecs): Promise<void>;
  deleteEncryption(ctx: RequestContext, typeId: string): Promise<void>;

  setDefaultType(ctx: RequestContext, projectId: string, typeIdOrName: string): Promise<DefaultTypeRecord>;
  getDefaultType(ctx: RequestContext, projectId: string): Promise<DefaultTypeRecord>;
  listDefaultTypes(ctx: RequestContext): Promise<DefaultTypeRecord[]>;
  unsetDefaultType(ctx: RequestContext, projectId: string): Promise<void>;

  retypeVolume(ctx: RequestContext, volumeId: string, req: RetypeRequest): Promise<void>;
}
