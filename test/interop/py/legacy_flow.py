#!/usr/bin/python3
"""Drives one volume through attach/detach with python-cinderclient, the way Nova does.

Two flows, each on its own fresh volume:
  legacy       reserve, initialize_connection, attach, begin_detaching,
               terminate_connection, detach (microversion 3.0, no version header),
               reading the volume back at 3.48 after each step as Nova does;
  attachments  create without connector (the reserve step), update with a
               connector, os-complete, delete, all at 3.44 with X-Service-Token.

With --keystone-url the clients authenticate as Nova does: the user's password through
Keystone, the endpoint from the catalog, and Nova's own token sent along as the service
token (keystoneauth's ServiceTokenAuthWrapper); passwords come from the environment
(CB_USER_PASSWORD, CB_SERVICE_PASSWORD), never the command line.

Prints one JSON document: per flow, the volume's status and number of attachments
after every step (attach_status is not part of the API's volume view), the
connection_info returned (password masked), and (with --iscsi-inq) the outcome of
an iSCSI login with exactly that connection_info while attached and after the
detach steps. The caller decides what is right; this script only fails
on client errors, so a server that misbehaves shows up as a readable diff.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import uuid

from cinderclient import client as cinder_client
from cinderclient.contrib import noauth
from keystoneauth1 import service_token as ks_service_token
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3 as ks_v3

SERVICE_TOKEN = 'svc'
ARGS = None


def keystone_password(user, password, project):
    return ks_v3.Password(auth_url=ARGS.keystone_url, username=user, password=password, project_name=project,
                          user_domain_id='default', project_domain_id='default')


def make_client(endpoint, project, version, service_token=False):
    if ARGS.keystone_url:
        auth = keystone_password(ARGS.user, os.environ['CB_USER_PASSWORD'], ARGS.project_name)
        if service_token:
            service = keystone_password(ARGS.service_user, os.environ['CB_SERVICE_PASSWORD'], ARGS.service_project)
            auth = ks_service_token.ServiceTokenAuthWrapper(user_auth=auth, service_auth=service)
        sess = ks_session.Session(auth=auth)
        return cinder_client.Client(version, session=sess, service_type='volumev3')
    auth = noauth.CinderNoAuthPlugin('admin', project, roles=None, endpoint=endpoint)
    headers = {'X-Service-Token': SERVICE_TOKEN} if service_token else {}
    sess = ks_session.Session(auth=auth, additional_headers=headers)
    return cinder_client.Client(version, session=sess, endpoint_override='%s/%s' % (endpoint, project),
                                service_type='volumev3')


def observe(reader, volume_id, step, log):
    vol = reader.volumes.get(volume_id)
    entry = {
        'step': step,
        'status': vol.status,
        'attachments': len(vol.attachments),
    }
    log.append(entry)
    return vol


def wait_available(reader, volume_id, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while True:
        status = reader.volumes.get(volume_id).status
        if status == 'available':
            return
        if status == 'error' or time.monotonic() > deadline:
            raise RuntimeError('volume %s is %s, not available' % (volume_id, status))
        time.sleep(0.1)


def iscsi_login(iscsi_inq, connection_info, initiator):
    """Logs in with the returned portal, IQN, LUN and CHAP secret; reports the outcome, never the secret."""
    data = connection_info['data']
    url = 'iscsi://%s%%%s@%s/%s/%s' % (data['auth_username'], data['auth_password'],
                                       data['target_portal'], data['target_iqn'], data['target_lun'])
    try:
        proc = subprocess.run([iscsi_inq, '-i', initiator, url], capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired:
        return {'ok': False, 'detail': 'timed out'}
    detail = (proc.stdout + proc.stderr).replace(data['auth_password'], '***').strip()
    return {'ok': proc.returncode == 0, 'detail': detail[-400:]}


def connector_for(initiator):
    return {'initiator': initiator, 'ip': '127.0.0.1', 'host': 'interop-host', 'platform': 'x86_64',
            'os_type': 'linux', 'multipath': False, 'do_local_attach': False}


def redact(connection_info):
    shown = json.loads(json.dumps(connection_info))
    data = shown.get('data', shown)
    if data.get('auth_password'):
        data['auth_password'] = '***'
    return shown


def legacy_flow(args):
    nova = make_client(args.endpoint, args.project, '3.0', service_token=bool(args.keystone_url))
    reader = make_client(args.endpoint, args.project, '3.48')
    initiator = args.initiator + ':legacy'
    connector = connector_for(initiator)
    log, iscsi = [], {}
    vol = nova.volumes.create(size=1, name='interop-legacy-%s' % uuid.uuid4().hex[:8])
    wait_available(reader, vol.id)
    observe(reader, vol.id, 'created', log)

    nova.volumes.reserve(vol.id)
    observe(reader, vol.id, 'reserve', log)
    info = dict(nova.volumes.initialize_connection(vol.id, connector))
    observe(reader, vol.id, 'initialize_connection', log)
    instance = str(uuid.uuid4())
    nova.volumes.attach(vol.id, instance, '/dev/vdb', mode='rw')
    attached = observe(reader, vol.id, 'attach', log)
    if args.iscsi_inq:
        iscsi['attached'] = iscsi_login(args.iscsi_inq, info, initiator)
    attachment_id = attached.attachments[0]['attachment_id'] if attached.attachments else None

    nova.volumes.begin_detaching(vol.id)
    observe(reader, vol.id, 'begin_detaching', log)
    nova.volumes.terminate_connection(vol.id, connector)
    observe(reader, vol.id, 'terminate_connection', log)
    if args.iscsi_inq:
        iscsi['after_terminate'] = iscsi_login(args.iscsi_inq, info, initiator)
    nova.volumes.detach(vol.id, attachment_id)
    observe(reader, vol.id, 'detach', log)
    if args.iscsi_inq:
        iscsi['after_detach'] = iscsi_login(args.iscsi_inq, info, initiator)

    nova.volumes.delete(vol.id)
    return {'volume_id': vol.id, 'instance_uuid': instance, 'steps': log, 'connection_info': redact(info),
            'iscsi': iscsi}


def attachments_flow(args):
    nova = make_client(args.endpoint, args.project, '3.44', service_token=True)
    reader = make_client(args.endpoint, args.project, '3.48')
    initiator = args.initiator + ':attachments'
    connector = connector_for(initiator)
    log, iscsi = [], {}
    vol = nova.volumes.create(size=1, name='interop-attachments-%s' % uuid.uuid4().hex[:8])
    wait_available(reader, vol.id)
    observe(reader, vol.id, 'created', log)

    instance = str(uuid.uuid4())
    created = nova.attachments.create(vol.id, None, instance_id=instance)
    observe(reader, vol.id, 'attachment_create', log)
    updated = nova.attachments.update(created['id'], connector)
    info = updated.connection_info
    observe(reader, vol.id, 'attachment_update', log)
    nova.attachments.complete(created['id'])
    completed = observe(reader, vol.id, 'attachment_complete', log)
    shown = nova.attachments.show(created['id'])
    if args.iscsi_inq:
        # The attachments API returns connection_info flat (driver data plus driver_volume_type).
        iscsi['attached'] = iscsi_login(args.iscsi_inq, {'data': info}, initiator)
    nova.attachments.delete(created['id'])
    observe(reader, vol.id, 'attachment_delete', log)
    if args.iscsi_inq:
        iscsi['after_delete'] = iscsi_login(args.iscsi_inq, {'data': info}, initiator)

    nova.volumes.delete(vol.id)
    return {
        'volume_id': vol.id,
        'instance_uuid': instance,
        'steps': log,
        'created_status': created['status'],
        'updated_status': updated.status,
        'shown_status': shown.status,
        'volume_attachment': completed.attachments[0] if completed.attachments else None,
        'connection_info': redact(info),
        'iscsi': iscsi,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--endpoint', help='base URL ending in /v3, without the project (noauth)')
    parser.add_argument('--project', help='project id (noauth)')
    parser.add_argument('--keystone-url', help='identity v3 endpoint: authenticate through Keystone instead of noauth')
    parser.add_argument('--user', help='the user (Keystone), in --project-name')
    parser.add_argument('--project-name')
    parser.add_argument('--service-user', default='nova', help="the service's user whose token goes along (Keystone)")
    parser.add_argument('--service-project', default='service')
    parser.add_argument('--flow', choices=['legacy', 'attachments', 'both'], default='both')
    parser.add_argument('--initiator', default='iqn.1993-08.org.debian:01:interop')
    parser.add_argument('--iscsi-inq', help='path to iscsi-inq; when given, log in with the returned connection_info')
    args = parser.parse_args()
    global ARGS
    ARGS = args
    if not args.keystone_url and not (args.endpoint and args.project):
        parser.error('--endpoint and --project, or --keystone-url')
    result = {}
    if args.flow in ('legacy', 'both'):
        result['legacy'] = legacy_flow(args)
    if args.flow in ('attachments', 'both'):
        result['attachments'] = attachments_flow(args)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
