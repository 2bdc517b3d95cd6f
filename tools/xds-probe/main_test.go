package main

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	rawv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/raw_buffer/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

func socket(t *testing.T, m proto.Message) *corev3.TransportSocket {
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return &corev3.TransportSocket{Name: "ts", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}
}

// The shape istiod gives a cluster under auto mTLS: tlsMode-istio first, then a catch-all.
func TestTransportForFollowsTheFirstMatchingSocketMatch(t *testing.T) {
	mtls := &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: "default"}},
	}}
	istio, _ := structpb.NewStruct(map[string]any{"tlsMode": "istio"})
	c := &clusterv3.Cluster{TransportSocketMatches: []*clusterv3.Cluster_TransportSocketMatch{
		{Name: "tlsMode-istio", Match: istio, TransportSocket: socket(t, mtls)},
		{Name: "tlsMode-disabled", Match: &structpb.Struct{}, TransportSocket: socket(t, &rawv3.RawBuffer{})},
	}}
	cases := []struct {
		md   map[string]string
		want string
	}{
		{map[string]string{"tlsMode": "istio"}, "mtls"},
		{map[string]string{"tlsMode": "disabled"}, "plaintext"},
		{map[string]string{}, "plaintext"},
	}
	for _, tc := range cases {
		if got := transportFor(c, tc.md); got != tc.want {
			t.Errorf("transportFor(%v) = %s, want %s", tc.md, got, tc.want)
		}
	}
	// server-only TLS (no client certificate) is not mutual
	if got := transportOf(socket(t, &tlsv3.UpstreamTlsContext{})); got != "tls" {
		t.Errorf("TLS without a client certificate: %s, want tls", got)
	}
	if got := transportFor(&clusterv3.Cluster{}, map[string]string{"tlsMode": "istio"}); got != "plaintext" {
		t.Errorf("no matches, no socket: %s, want plaintext", got)
	}
}

func TestChainOfReadsTheTcpProxyCluster(t *testing.T) {
	a, err := anypb.New(&tcpproxyv3.TcpProxy{StatPrefix: "x", ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "outbound|5432||db.service.consul"}})
	if err != nil {
		t.Fatal(err)
	}
	fc := chainOf(&listenerv3.FilterChain{Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.tcp_proxy", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}}})
	if fc.Cluster != "outbound|5432||db.service.consul" || len(fc.Filters) != 1 || fc.Route != "" {
		t.Errorf("chainOf: %+v", fc)
	}
}
