module earshot/bench/sdkpeer

go 1.26.0

require (
	earshot v0.0.0
	github.com/coder/websocket v1.8.15
	github.com/deepgram/deepgram-go-sdk/v3 v3.5.0
)

require (
	github.com/VictoriaMetrics/metrics v1.45.0 // indirect
	github.com/dvonthenen/websocket v1.5.1-dyv.2 // indirect
	github.com/fatih/color v1.15.0 // indirect
	github.com/go-logr/logr v1.3.0 // indirect
	github.com/gorilla/schema v1.3.0 // indirect
	github.com/hokaccha/go-prettyjson v0.0.0-20211117102719-0474bc63780f // indirect
	github.com/mattn/go-colorable v0.1.13 // indirect
	github.com/mattn/go-isatty v0.0.17 // indirect
	github.com/valyala/fastrand v1.1.0 // indirect
	github.com/valyala/histogram v1.2.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.38.0 // indirect
	k8s.io/klog/v2 v2.110.1 // indirect
)

replace earshot => ../..
