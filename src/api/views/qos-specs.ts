import type { QosAssociation, QosSpecsRecord } from '../../volumes/types.js';
import type { Urls } from '../links.js';

/** Cinder's QoS specs view: the same fields in list, show and create. */
export function qosSpecsView(qos: QosSpecsRecord) {
  return { id: qos.id, name: qos.name, consumer: qos.consumer, specs: qos.specs };
}

/** Show and create add the links. */
export function qosSpecsDetailView(qos: QosSpecsRecord, urls: Urls) {
  return { qos_specs: qosSpecsView(qos), links: urls.links(`qos-specs/${qos.id}`) };
}

export function qosAssociationView(association: QosAssociation) {
  return { association_type: association.associationType, name: association.name, id: association.id };
}
