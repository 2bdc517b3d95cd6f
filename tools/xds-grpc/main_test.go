package main

import (
	"context"
	"encoding/json"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
)

// What istiod keys on: a sidecar node id (type~ip~pod.ns~ns.svc.cluster.local) and GENERATOR=grpc.
func TestBootstrapIsWhatIstioProxylessExpects(t *testing.T) {
	var b struct {
		XdsServers []struct {
			ServerURI      string           `json:"server_uri"`
			ChannelCreds   []map[string]any `json:"channel_creds"`
			ServerFeatures []string         `json:"server_features"`
		} `json:"xds_servers"`
		Node struct {
			ID       string         `json:"id"`
			Metadata map[string]any `json:"metadata"`
		} `json:"node"`
	}
	raw := bootstrap("127.0.0.1:25010", "ns1", "pod1", "10.0.0.9", "Kubernetes", "1.31.0")
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	if b.Node.ID != "sidecar~10.0.0.9~pod1.ns1~ns1.svc.cluster.local" {
		t.Errorf("node id %q", b.Node.ID)
	}
	if b.Node.Metadata["GENERATOR"] != "grpc" || b.Node.Metadata["NAMESPACE"] != "ns1" || b.Node.Metadata["CLUSTER_ID"] != "Kubernetes" {
		t.Errorf("metadata %v", b.Node.Metadata)
	}
	if len(b.XdsServers) != 1 || b.XdsServers[0].ServerURI != "127.0.0.1:25010" || b.XdsServers[0].ChannelCreds[0]["type"] != "insecure" || b.XdsServers[0].ServerFeatures[0] != "xds_v3" {
		t.Errorf("xds_servers %+v", b.XdsServers)
	}
}

func TestEchoAnswersWithItsID(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	testpb.RegisterTestServiceServer(srv, &echoServer{id: "web-a"})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r, err := testpb.NewTestServiceClient(conn).UnaryCall(context.Background(), &testpb.SimpleRequest{FillServerId: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetServerId() != "web-a" {
		t.Errorf("server id %q", r.GetServerId())
	}
}
