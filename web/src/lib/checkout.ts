/** The provider's checkout page, told where to come back to: `return_to`, a path on this origin
 * (the provider sends anything else to `/`). A same-origin URL stays relative. */
export function checkoutUrl(url: string, returnTo: string, origin = window.location.origin): string {
  const u = new URL(url, origin);
  if (!u.searchParams.has('return_to')) u.searchParams.set('return_to', returnTo);
  return u.origin === origin ? u.pathname + u.search + u.hash : u.toString();
}
