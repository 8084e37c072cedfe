// Whether a backend has room for a volume, and how much room it has: Cinder's
// CapacityFilter and CapacityWeigher over the capacity a storage host last reported.

/** GiB, or a backend's admission that it cannot say. */
export type Gigabytes = number | 'infinite' | 'unknown';

/** The part of a pool's capabilities the filter and weigher read (Cinder's names). */
export interface PoolCapacity {
  total_capacity_gb: Gigabytes;
  free_capacity_gb: Gigabytes | null;
  provisioned_capacity_gb: number;
  thin_provisioning_support: boolean;
  max_over_subscription_ratio: number;
  reserved_percentage: number;
}

export interface CapacityVerdict {
  passes: boolean;
  /** Why, in the words an operator reads in the log. */
  reason: string;
}

/**
 * Cinder's calculate_capacity_factors: the reserve is taken off the total (rounded down
 * to whole GiB), thin pools may promise that many times over, and what they have
 * promised already is spent. A thick pool also has no more than it reports free.
 */
function factors(pool: PoolCapacity, total: number, free: number, thin: boolean) {
  const reserved = Math.floor((total * pool.reserved_percentage) / 100);
  const afterReserve = total - reserved;
  if (thin && pool.thin_provisioning_support) {
    const available = afterReserve * pool.max_over_subscription_ratio;
    return { available, virtualFree: available - pool.provisioned_capacity_gb };
  }
  return { available: afterReserve, virtualFree: Math.min(free, afterReserve - pool.provisioned_capacity_gb) };
}

const round = (gib: number) => Math.round(gib * 100) / 100;

/**
 * Cinder's CapacityFilter.backend_passes for a new volume of `requested` GiB. `thin` is
 * false for a volume type asking for thick provisioning (provisioning:type thick), which
 * is then judged by free space alone.
 */
export function backendPasses(pool: PoolCapacity, requested: number, thin: boolean): CapacityVerdict {
  const free = pool.free_capacity_gb;
  const total = pool.total_capacity_gb;
  if (free === null) return { passes: false, reason: 'no capacity reported' };
  // A backend that cannot tell is given the volume; the driver has the last word.
  if (free === 'infinite' || free === 'unknown') return { passes: true, reason: `free capacity ${free}` };
  if (total === 'infinite' || total === 'unknown') {
    if (pool.reserved_percentage === 0) return { passes: true, reason: `total capacity ${total}` };
    return { passes: false, reason: `no ${pool.reserved_percentage}% reserve can be taken from a total capacity ${total}` };
  }
  if (total <= 0) return { passes: false, reason: `total capacity is ${total} GiB` };
  const { available, virtualFree } = factors(pool, total, free, thin);
  if (thin && pool.thin_provisioning_support) {
    const ratio = pool.max_over_subscription_ratio;
    if (ratio < 1) return { passes: false, reason: `maximum over subscription ratio ${ratio} is under 1.0` };
    // Cinder's own arithmetic: the new total promised over what may be promised, against the ratio.
    const provisionedRatio = (pool.provisioned_capacity_gb + requested) / available;
    if (provisionedRatio > ratio) {
      const promised = pool.provisioned_capacity_gb + requested;
      return { passes: false, reason: `provisioned capacity would be ${round(promised)} GiB, ${round(provisionedRatio)} times the ${round(available)} GiB available (maximum ${ratio})` };
    }
    if (virtualFree < requested) {
      return { passes: false, reason: `free virtual capacity ${round(virtualFree)} GiB cannot hold a thin ${requested} GiB volume` };
    }
    return { passes: true, reason: `free virtual capacity ${round(virtualFree)} GiB` };
  }
  if (virtualFree < requested) return { passes: false, reason: `free capacity ${round(virtualFree)} GiB cannot hold a ${requested} GiB volume` };
  return { passes: true, reason: `free capacity ${round(virtualFree)} GiB` };
}

/**
 * Cinder's CapacityWeigher with its default multiplier (1.0): the most free virtual
 * capacity wins, so volumes spread; a backend that cannot say weighs least.
 */
export function capacityWeight(pool: PoolCapacity, thin: boolean): number {
  const free = pool.free_capacity_gb;
  const total = pool.total_capacity_gb;
  if (free === null || typeof free !== 'number' || typeof total !== 'number') return -1;
  return factors(pool, total, free, thin).virtualFree;
}
