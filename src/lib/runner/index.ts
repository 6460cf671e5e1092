// Runners ambient ships itself: the echo runner and its process entry.
export {startEchoRunner, type EchoRunner, type EchoRunnerOptions} from './echo.js'
export {runEchoMain, parseAguiPort, type EchoMainOptions, type SignalSource} from './echo-main.js'
export {openSse, writeSse, SSE_HEADERS} from './sse.js'
