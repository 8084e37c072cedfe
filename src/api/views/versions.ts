import { MAX_VERSION, MAX_VERSION_UPDATED, MIN_VERSION } from '../microversion.js';

export function versionsDocument(origin: string) {
  return {
    versions: [
      {
        id: 'v3.0',
        status: 'CURRENT',
        version: String(MAX_VERSION),
        min_version: String(MIN_VERSION),
        updated: MAX_VERSION_UPDATED,
        links: [
          { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
          { rel: 'self', href: `${origin}/v3/` },
        ],
        'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
      },
    ],
  };
}
