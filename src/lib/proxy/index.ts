// The AG-UI reverse proxy of local mode.
export {startAguiProxy, DEFAULT_PROXY_HOST, DEFAULT_PROXY_PORT, type AguiProxy, type AguiProxyOptions, type SessionResolver} from './server.js'
export {matchRoute, type Route, type SessionRouteName} from './routes.js'
export {DEFAULT_CORS_ORIGIN, ALLOWED_METHODS} from './cors.js'
export type {UpstreamTarget} from './forward.js'
export {allowedHostSet, crossSiteProblem, hostProblem, type HostPolicy} from './guard.js'
