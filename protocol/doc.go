// Package protocol is the client protocol of GET /v4/listen, the one
// place that knows its wire forms (spec/listen-protocol.md): the segment
// JSON, the text events (service_status, segments_deleted) and their
// status values, the ping exchange, and the WebSocket close codes the
// gateway uses.
//
// The gateway's pipeline encodes with it, `earshot stream`'s client and
// the bench tools decode with it. Stages never import it: they report
// neutral outcomes (stages.Message, stages.Failure) and the pipeline maps
// those onto this protocol. It imports nothing of the project.
package protocol
