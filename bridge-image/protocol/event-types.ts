/**
 * Event type names, kept apart from the zod schemas so that code which only needs the names (the
 * extension's views at activation) does not pay for building the schemas.
 */
export const ShadowEventTypes = {
  written: 'shadow.written',
  deleted: 'shadow.deleted',
  moved: 'shadow.moved',
  dirCreated: 'shadow.dir_created',
  dirRemoved: 'shadow.dir_removed',
  applied: 'shadow.applied',
  discarded: 'shadow.discarded',
} as const;

export const LeaseEventTypes = {
  acquired: 'lease.acquired',
  renewed: 'lease.renewed',
  released: 'lease.released',
  expired: 'lease.expired',
} as const;

export const AnnotationEventTypes = { added: 'annotation.added', resolved: 'annotation.resolved' } as const;

/** The developer (admin) names an agent expert, with the capabilities it may judge, or removes it. */
export const ExpertEventTypes = { named: 'expert.named', removed: 'expert.removed' } as const;
