module earshot/bench/ortpeer

go 1.26.0

replace earshot => ../..

require (
	earshot v0.0.0
	github.com/yalue/onnxruntime_go v1.27.0
)

require (
	github.com/VictoriaMetrics/metrics v1.45.0 // indirect
	github.com/valyala/fastrand v1.1.0 // indirect
	github.com/valyala/histogram v1.2.0 // indirect
	golang.org/x/sys v0.38.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
