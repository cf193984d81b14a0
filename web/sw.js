// Service worker of the demo app: precaches the page, the library bundle, the weights and the sample images on
// install, then answers every same-origin GET from the cache first (network as fallback, whose answers are cached
// too), so the app works offline after the first visit. Bump VERSION to replace the cache on a new release.
const VERSION = 'wasmzoo-web-v2';
const CORE = [
  './',
  './index.html',
  './app.js',
  './style.css',
  './manifest.webmanifest',
  './icons/icon-32.png',
  './icons/icon-192.png',
  './icons/icon-512.png',
  './icons/icon-maskable-512.png',
  '../dist/wasmzoo.mjs',
  '../weights/lenet5-fashion.safetensors',
  '../assets/fashion-samples.safetensors',
];
// Cached when present: the VAE and autoencoder sections appear only if these exist.
const OPTIONAL = ['../weights/vae-fashion.safetensors', '../weights/autoencoder-fashion.safetensors'];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(VERSION);
    await cache.addAll(CORE);
    await Promise.all(OPTIONAL.map((u) => cache.add(u).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key.startsWith('wasmzoo-web-') && key !== VERSION) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(VERSION);
    const hit = await cache.match(req, { ignoreSearch: true });
    if (hit) return hit;
    try {
      const res = await fetch(req);
      if (res.ok) await cache.put(req, res.clone());
      return res;
    } catch (e) {
      if (req.mode === 'navigate') {
        const page = await cache.match('./index.html');
        if (page) return page;
      }
      throw e;
    }
  })());
});
