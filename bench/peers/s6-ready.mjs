// s6 with readiness notification: the same service directories plus a
// `notification-fd`, so that s6-supervise knows when a service is up.
import { makeS6 } from './s6.mjs';

export default makeS6({ readiness: true });
