// xds-grpc is a real xDS data plane for e2e/istio: gRPC-Go's own xDS client (proxyless gRPC, as
// Istio serves it with GENERATOR=grpc node metadata) resolving xds:///<host>:<port> through
// istiod, and a tiny gRPC echo server that answers with its instance id. Test tool only, never
// product code; Go because gRPC-Go is the proxyless client Istio documents and tests against.
//
//	xds-grpc echo -listen 127.0.0.1:21001 -id web-a
//	    serves grpc.testing.TestService/UnaryCall (and the gRPC health service) on loopback;
//	    prints one JSON line once it listens, stops when stdin closes
//	xds-grpc call -xds 127.0.0.1:25010 -target xds:///web.service.consul:9000 -namespace ns
//	    reads a number N per stdin line, makes N unary calls through the xDS channel and prints
//	    one JSON line per batch: {"at":...,"calls":N,"servers":{"web-a":5,...},"errors":{...}}
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
	_ "google.golang.org/grpc/xds" // registers the xds:/// resolver and xDS balancers
)

const bootstrapEnv = "GRPC_XDS_BOOTSTRAP_CONFIG"

func main() {
	if len(os.Args) < 2 {
		fail("usage: xds-grpc echo|call [flags] (see the comment at the top of main.go)")
	}
	switch os.Args[1] {
	case "echo":
		echo(os.Args[2:])
	case "call":
		call(os.Args[2:])
	default:
		fail("unknown command %q: echo or call", os.Args[1])
	}
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "xds-grpc: "+format+"\n", a...)
	os.Exit(2)
}

type echoServer struct {
	testpb.UnimplementedTestServiceServer
	id string
}

func (s *echoServer) UnaryCall(_ context.Context, _ *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return &testpb.SimpleResponse{ServerId: s.id, Hostname: s.id}, nil
}

func echo(args []string) {
	fs := flag.NewFlagSet("echo", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to serve on")
	id := fs.String("id", "", "instance id to answer with (required)")
	_ = fs.Parse(args)
	if *id == "" {
		fail("echo: -id is required")
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		fail("echo: listen %s: %v", *listen, err)
	}
	srv := grpc.NewServer()
	testpb.RegisterTestServiceServer(srv, &echoServer{id: *id})
	healthpb.RegisterHealthServer(srv, health.NewServer())
	out, _ := json.Marshal(map[string]any{"listening": lis.Addr().String(), "id": *id})
	fmt.Println(string(out))
	// the test owns our lifetime through stdin: closed stdin (or a dead parent) stops the server
	go func() {
		_, _ = bufio.NewReader(os.Stdin).WriteTo(discard{})
		srv.Stop()
	}()
	if err := srv.Serve(lis); err != nil {
		fail("echo: serve: %v", err)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// bootstrap is what Istio's pilot-agent writes for a proxyless gRPC workload
// (pkg/istio-agent/grpcxds): a sidecar node id, GENERATOR=grpc so istiod uses its gRPC generator,
// and the xDS server. Here the server is istiod's plaintext port instead of the agent's socket.
func bootstrap(xdsAddr, ns, pod, ip, clusterID, istioVersion string) []byte {
	b := map[string]any{
		"xds_servers": []any{map[string]any{
			"server_uri":      xdsAddr,
			"channel_creds":   []any{map[string]any{"type": "insecure"}},
			"server_features": []any{"xds_v3"},
		}},
		"node": map[string]any{
			"id": fmt.Sprintf("sidecar~%s~%s.%s~%s.svc.cluster.local", ip, pod, ns, ns),
			"metadata": map[string]any{
				"GENERATOR":     "grpc",
				"ISTIO_VERSION": istioVersion,
				"NAMESPACE":     ns,
				"NAME":          pod,
				"CLUSTER_ID":    clusterID,
				"MESH_ID":       "cluster.local",
				"INSTANCE_IPS":  ip,
				"LABELS":        map[string]any{"app": pod},
				"WORKLOAD_NAME": pod,
				"OWNER":         fmt.Sprintf("kubernetes://apis/v1/namespaces/%s/pods/%s", ns, pod),
			},
			"locality": map[string]any{},
		},
		"server_listener_resource_name_template": "xds.istio.io/grpc/lds/inbound/%s",
	}
	out, _ := json.Marshal(b)
	return out
}

type batch struct {
	At      int64          `json:"at"` // unix ms when the batch finished
	Calls   int            `json:"calls"`
	Servers map[string]int `json:"servers"` // instance id -> calls it answered
	Errors  map[string]int `json:"errors"`  // gRPC status code -> calls that failed with it
	Sample  string         `json:"sample,omitempty"`
}

func call(args []string) {
	fs := flag.NewFlagSet("call", flag.ExitOnError)
	xdsAddr := fs.String("xds", "127.0.0.1:25010", "istiod plaintext xDS address (its 15010)")
	target := fs.String("target", "", "xds:///<host>:<port> (required)")
	ns := fs.String("namespace", "rb-e2e-probe", "namespace of the proxyless client")
	pod := fs.String("pod", "xds-grpc", "pod name of the proxyless client")
	ip := fs.String("ip", "10.250.0.2", "pod IP the client announces (nothing connects to it)")
	clusterID := fs.String("cluster-id", "Kubernetes", "istiod's cluster id")
	istioVersion := fs.String("istio-version", "1.31.0", "ISTIO_VERSION the client announces")
	timeout := fs.Duration("call-timeout", 2*time.Second, "deadline of each call")
	_ = fs.Parse(args)
	if !strings.HasPrefix(*target, "xds:///") {
		fail("call: -target must be xds:///<host>:<port>, got %q", *target)
	}
	// gRPC-Go reads its bootstrap from the environment when it starts, so set it and start again.
	if os.Getenv(bootstrapEnv) == "" {
		env := append(os.Environ(), bootstrapEnv+"="+string(bootstrap(*xdsAddr, *ns, *pod, *ip, *clusterID, *istioVersion)))
		if err := syscall.Exec("/proc/self/exe", os.Args, env); err != nil {
			fail("call: re-exec with the bootstrap: %v", err)
		}
	}
	// Plaintext to the instances: the echo servers run no sidecar, and without xDS credentials
	// gRPC-Go ignores the TLS settings in CDS by design.
	conn, err := grpc.NewClient(*target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail("call: channel to %s: %v", *target, err)
	}
	defer conn.Close()
	client := testpb.NewTestServiceClient(conn)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		n, err := strconv.Atoi(line)
		if err != nil || n < 1 {
			fail("call: stdin wants a number of calls per line, got %q", line)
		}
		b := batch{Calls: n, Servers: map[string]int{}, Errors: map[string]int{}}
		for i := 0; i < n; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), *timeout)
			r, err := client.UnaryCall(ctx, &testpb.SimpleRequest{FillServerId: true})
			cancel()
			if err != nil {
				b.Errors[status.Code(err).String()]++
				b.Sample = status.Convert(err).Message()
				continue
			}
			b.Servers[r.GetServerId()]++
		}
		b.At = time.Now().UnixMilli()
		out, _ := json.Marshal(b)
		fmt.Println(string(out))
	}
}
