// xds-probe connects to istiod's ADS as a sidecar would and prints, as JSON, the outbound
// clusters (CDS), their endpoints (EDS), the listeners (LDS) and the HTTP virtual hosts (RDS) that
// istiod serves. By default it announces DNS capture (ISTIO_META_DNS_CAPTURE=true), as a sidecar
// whose agent proxies DNS does: only then does istiod put a ServiceEntry's auto-allocated address
// on its outbound listeners.
// It is a test tool for e2e/istio (registry-bridge's product code is TypeScript); Go here only
// because go-control-plane carries Envoy's generated protos and istiod speaks them.
//
//	xds-probe -addr 127.0.0.1:25010 -match .service.consul            one view, then exit
//	xds-probe -addr 127.0.0.1:25010 -match .service.consul -watch     one JSON line per change, until stdin closes
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	typeCDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	typeEDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
	typeRDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
	typeLDS = "type.googleapis.com/envoy.config.listener.v3.Listener"
)

type cluster struct {
	Name           string              `json:"name"`
	Type           string              `json:"type"`
	EdsServiceName string              `json:"edsServiceName,omitempty"`
	Host           string              `json:"host"`
	Port           int                 `json:"port"`
	Protocol       string              `json:"protocol"` // http2 | downstream | default (no upstream protocol option: HTTP/1.1 or TCP)
	Services       []map[string]string `json:"services,omitempty"`
	// TransportSocketMatches: Istio's auto mTLS picks an endpoint's transport socket by the
	// endpoint's tlsMode metadata; in order, the first match wins.
	TransportSocketMatches []socketMatch `json:"transportSocketMatches,omitempty"`
	TransportSocket        string        `json:"transportSocket"` // without a match: mtls | tls | plaintext
	Endpoints              []endpoint    `json:"endpoints"`       // from EDS, or inline for DNS clusters
	EndpointCount          int           `json:"endpointCount"`
}

type endpoint struct {
	Address        string            `json:"address"`
	Port           int               `json:"port"`
	Region         string            `json:"region"`
	Zone           string            `json:"zone"`
	SubZone        string            `json:"subZone"`
	Priority       int               `json:"priority"`
	LocalityWeight int               `json:"localityWeight"`
	Weight         int               `json:"weight"`
	Health         string            `json:"health"`
	Labels         map[string]string `json:"labels,omitempty"`  // istio filter metadata: workload, labels when istiod sends them
	TLSMode        string            `json:"tlsMode,omitempty"` // envoy.transport_socket_match metadata: istio | disabled | absent
	Transport      string            `json:"transport"`         // what the cluster's matches give this endpoint: mtls | tls | plaintext
}

type socketMatch struct {
	Name      string            `json:"name"`
	Match     map[string]string `json:"match"`
	Transport string            `json:"transport"` // mtls | tls | plaintext
}

type listener struct {
	Name         string        `json:"name"`
	Address      string        `json:"address"`
	Port         int           `json:"port"`
	Extra        []string      `json:"additionalAddresses,omitempty"`
	FilterChains []filterChain `json:"filterChains"`
	DefaultChain *filterChain  `json:"defaultFilterChain,omitempty"`
}

type filterChain struct {
	Name                 string   `json:"name,omitempty"`
	DestinationPort      int      `json:"destinationPort,omitempty"`
	PrefixRanges         []string `json:"prefixRanges,omitempty"`
	TransportProtocol    string   `json:"transportProtocol,omitempty"`
	ApplicationProtocols []string `json:"applicationProtocols,omitempty"`
	ServerNames          []string `json:"serverNames,omitempty"`
	Filters              []string `json:"filters"`            // network filter names, in order
	Cluster              string   `json:"cluster,omitempty"`  // tcp_proxy's cluster
	Clusters             []string `json:"clusters,omitempty"` // tcp_proxy's weighted clusters
	Route                string   `json:"route,omitempty"`    // HTTP connection manager's RDS route name
	TransportSocket      string   `json:"transportSocket,omitempty"`
}

type virtualHost struct {
	Name     string   `json:"name"`
	Domains  []string `json:"domains"`
	Clusters []string `json:"clusters"`
}

type view struct {
	At           int64                    `json:"at"` // unix ms when the response completing this view arrived
	Clusters     []cluster                `json:"clusters"`
	Routes       map[string][]virtualHost `json:"routes"`    // RDS route name (the port) -> matching virtual hosts
	Listeners    []listener               `json:"listeners"` // outbound listeners that lead to a matching cluster or route
	CdsResponses int                      `json:"cdsResponses"`
	EdsResponses int                      `json:"edsResponses"`
	RdsResponses int                      `json:"rdsResponses"`
	LdsResponses int                      `json:"ldsResponses"`
	AllClusters  int                      `json:"allClusters"`  // every cluster istiod sent, matching or not
	AllListeners int                      `json:"allListeners"` // every listener istiod sent, matching or not
}

type probe struct {
	match    []string
	stream   discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	sendq    chan *discoveryv3.DiscoveryRequest
	node     *corev3.Node
	clusters map[string]*clusterv3.Cluster
	cla      map[string]*endpointv3.ClusterLoadAssignment
	routes   map[string]*routev3.RouteConfiguration
	lis      map[string]*listenerv3.Listener
	edsNames []string
	rdsNames []string
	edsSeen  bool
	rdsSeen  bool
	cdsN     int
	edsN     int
	rdsN     int
	ldsN     int
	versions map[string]string
}

func main() {
	addr := flag.String("addr", "127.0.0.1:25010", "istiod plaintext xDS address (its 15010)")
	ns := flag.String("namespace", "rb-e2e-probe", "namespace of the pretend sidecar")
	pod := flag.String("pod", "xds-probe", "pod name of the pretend sidecar")
	ip := flag.String("ip", "10.250.0.1", "pod IP of the pretend sidecar (not on this machine: nothing connects to it)")
	clusterID := flag.String("cluster-id", "Kubernetes", "istiod's cluster id")
	istioVersion := flag.String("istio-version", "1.31.0", "ISTIO_VERSION the pretend sidecar announces")
	match := flag.String("match", "", "comma-separated substrings: keep only outbound clusters whose host contains one (empty: all)")
	watch := flag.Bool("watch", false, "print one JSON line per change until stdin closes or -duration passes")
	timeout := flag.Duration("timeout", 30*time.Second, "give up on a one-shot view after this long")
	duration := flag.Duration("duration", 30*time.Minute, "stop watching after this long")
	summary := flag.Bool("summary", false, "print only counts (for large benchmarks)")
	dnsCapture := flag.Bool("dns-capture", true, "announce ISTIO_META_DNS_CAPTURE=true (istiod then serves auto-allocated addresses on listeners)")
	dnsAutoAllocate := flag.Bool("dns-auto-allocate", false, "announce ISTIO_META_DNS_AUTO_ALLOCATE=true (the pre-1.23 allocation; 1.31 allocates in the ServiceEntry's status instead)")
	flag.Parse()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(512<<20)))
	if err != nil {
		fail("dial %s: %v", *addr, err)
	}
	defer conn.Close()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		fail("ADS stream to %s: %v (is istiod up? bash scripts/peers/istiod.sh up)", *addr, err)
	}

	// The node id and metadata a sidecar's pilot-agent sends (type~ip~pod.ns~ns.svc.cluster.local).
	md := map[string]any{
		"ISTIO_VERSION":     *istioVersion,
		"NAMESPACE":         *ns,
		"NAME":              *pod,
		"CLUSTER_ID":        *clusterID,
		"MESH_ID":           "cluster.local",
		"INSTANCE_IPS":      *ip,
		"INTERCEPTION_MODE": "REDIRECT",
		"SERVICE_ACCOUNT":   "default",
		"WORKLOAD_NAME":     *pod,
		"OWNER":             fmt.Sprintf("kubernetes://apis/v1/namespaces/%s/pods/%s", *ns, *pod),
		"LABELS":            map[string]any{"app": *pod},
	}
	// pilot-agent turns ISTIO_META_<X> into node metadata <X>
	if *dnsCapture {
		md["DNS_CAPTURE"] = "true"
	}
	if *dnsAutoAllocate {
		md["DNS_AUTO_ALLOCATE"] = "true"
	}
	meta, _ := structpb.NewStruct(md)
	p := &probe{
		stream:   stream,
		sendq:    make(chan *discoveryv3.DiscoveryRequest, 1<<16),
		node:     &corev3.Node{Id: fmt.Sprintf("sidecar~%s~%s.%s~%s.svc.cluster.local", *ip, *pod, *ns, *ns), Cluster: *pod + "." + *ns, Metadata: meta},
		clusters: map[string]*clusterv3.Cluster{},
		cla:      map[string]*endpointv3.ClusterLoadAssignment{},
		routes:   map[string]*routev3.RouteConfiguration{},
		lis:      map[string]*listenerv3.Listener{},
		versions: map[string]string{},
	}
	for _, m := range strings.Split(*match, ",") {
		if m = strings.TrimSpace(m); m != "" {
			p.match = append(p.match, m)
		}
	}
	responses := make(chan *discoveryv3.DiscoveryResponse)
	errs := make(chan error, 2)
	// Requests go out from their own goroutine: a Send blocked on HTTP/2 flow control (istiod busy
	// sending us a large push) must never stop us from reading, or both sides wait forever.
	go func() {
		for req := range p.sendq {
			if err := stream.Send(req); err != nil {
				errs <- err
				return
			}
		}
	}()
	p.send(typeCDS, nil, "", "", true)
	p.send(typeLDS, nil, "", "", false) // Envoy subscribes to LDS right after CDS

	go func() {
		for {
			r, err := stream.Recv()
			if err != nil {
				errs <- err
				return
			}
			responses <- r
		}
	}()
	stop := make(chan struct{})
	if *watch {
		go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin)); close(stop) }()
	}
	deadline := time.After(*timeout)
	if *watch {
		deadline = time.After(*duration)
	}
	last := ""
	for {
		select {
		case r := <-responses:
			if err := p.handle(r); err != nil {
				fail("%v", err)
			}
			if !p.complete() {
				continue
			}
			v := p.view(time.Now().UnixMilli(), *summary)
			key := p.viewKey(v)
			if *watch && key == last {
				continue
			}
			last = key
			out, _ := json.Marshal(v)
			fmt.Println(string(out))
			if !*watch {
				return
			}
		case err := <-errs:
			if err == io.EOF {
				fail("istiod closed the ADS stream")
			}
			fail("ADS stream: %v", err)
		case <-stop:
			return
		case <-deadline:
			if *watch {
				return
			}
			fail("no complete CDS+EDS+RDS+LDS view from %s within %s (is istiod up? bash scripts/peers/istiod.sh up)", *addr, *timeout)
		}
	}
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "xds-probe: "+format+"\n", a...)
	os.Exit(2)
}

func (p *probe) send(typeURL string, names []string, version, nonce string, withNode bool) {
	req := &discoveryv3.DiscoveryRequest{TypeUrl: typeURL, ResourceNames: names, VersionInfo: version, ResponseNonce: nonce}
	if withNode {
		req.Node = p.node
	}
	p.sendq <- req
}

// outbound|<port>|<subset>|<host>: the clusters a sidecar gets for a service's port.
func parseOutbound(name string) (host string, port int, ok bool) {
	parts := strings.SplitN(name, "|", 4)
	if len(parts) != 4 || parts[0] != "outbound" || parts[2] != "" {
		return "", 0, false
	}
	port, err := strconv.Atoi(parts[1])
	return parts[3], port, err == nil
}

func (p *probe) matches(host string) bool {
	if len(p.match) == 0 {
		return true
	}
	for _, m := range p.match {
		if strings.Contains(host, m) {
			return true
		}
	}
	return false
}

func (p *probe) handle(r *discoveryv3.DiscoveryResponse) error {
	switch r.TypeUrl {
	case typeCDS:
		p.cdsN++
		p.clusters = map[string]*clusterv3.Cluster{}
		for _, a := range r.Resources {
			c := &clusterv3.Cluster{}
			if err := proto.Unmarshal(a.Value, c); err != nil {
				return fmt.Errorf("decode cluster: %w", err)
			}
			p.clusters[c.Name] = c
		}
		p.send(typeCDS, nil, r.VersionInfo, r.Nonce, false) // ACK
		// Subscribe to EDS and RDS for what now matches, as Envoy does after each CDS update.
		var eds []string
		ports := map[string]bool{}
		for name, c := range p.clusters {
			host, port, ok := parseOutbound(name)
			if !ok || !p.matches(host) {
				continue
			}
			ports[strconv.Itoa(port)] = true
			if c.GetType() == clusterv3.Cluster_EDS {
				n := c.GetEdsClusterConfig().GetServiceName()
				if n == "" {
					n = name
				}
				eds = append(eds, n)
			}
		}
		sort.Strings(eds)
		rds := make([]string, 0, len(ports))
		for port := range ports {
			rds = append(rds, port)
		}
		sort.Strings(rds)
		if !equal(eds, p.edsNames) || p.cdsN == 1 {
			p.edsNames, p.edsSeen = eds, len(eds) == 0
			if len(eds) > 0 {
				p.send(typeEDS, eds, p.versions[typeEDS], "", false)
			}
		}
		if !equal(rds, p.rdsNames) || p.cdsN == 1 {
			p.rdsNames, p.rdsSeen = rds, len(rds) == 0
			if len(rds) > 0 {
				p.send(typeRDS, rds, p.versions[typeRDS], "", false)
			}
		}
	case typeEDS:
		p.edsN++
		for _, a := range r.Resources {
			c := &endpointv3.ClusterLoadAssignment{}
			if err := proto.Unmarshal(a.Value, c); err != nil {
				return fmt.Errorf("decode endpoints: %w", err)
			}
			p.cla[c.ClusterName] = c
		}
		p.edsSeen = true
		p.versions[typeEDS] = r.VersionInfo
		p.send(typeEDS, p.edsNames, r.VersionInfo, r.Nonce, false)
	case typeLDS:
		p.ldsN++
		p.lis = map[string]*listenerv3.Listener{}
		for _, a := range r.Resources {
			l := &listenerv3.Listener{}
			if err := proto.Unmarshal(a.Value, l); err != nil {
				return fmt.Errorf("decode listener: %w", err)
			}
			p.lis[l.Name] = l
		}
		p.versions[typeLDS] = r.VersionInfo
		p.send(typeLDS, nil, r.VersionInfo, r.Nonce, false) // ACK
	case typeRDS:
		p.rdsN++
		for _, a := range r.Resources {
			c := &routev3.RouteConfiguration{}
			if err := proto.Unmarshal(a.Value, c); err != nil {
				return fmt.Errorf("decode routes: %w", err)
			}
			p.routes[c.Name] = c
		}
		p.rdsSeen = true
		p.versions[typeRDS] = r.VersionInfo
		p.send(typeRDS, p.rdsNames, r.VersionInfo, r.Nonce, false)
	}
	return nil
}

func (p *probe) complete() bool { return p.cdsN > 0 && p.ldsN > 0 && p.edsSeen && p.rdsSeen }

func protocolOf(c *clusterv3.Cluster) string {
	a, ok := c.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
	if !ok {
		return "default"
	}
	o := &httpv3.HttpProtocolOptions{}
	if err := proto.Unmarshal(a.Value, o); err != nil {
		return "unknown"
	}
	switch {
	case o.GetExplicitHttpConfig().GetHttp2ProtocolOptions() != nil:
		return "http2"
	case o.GetUseDownstreamProtocolConfig() != nil:
		return "downstream"
	case o.GetAutoConfig() != nil:
		return "auto"
	case o.GetExplicitHttpConfig().GetHttpProtocolOptions() != nil:
		return "http1"
	}
	return "default"
}

// transportOf summarizes a transport socket: Istio's mTLS is TLS with a client certificate.
func transportOf(ts *corev3.TransportSocket) string {
	if ts == nil {
		return "plaintext"
	}
	tc := ts.GetTypedConfig()
	if tc == nil || strings.HasSuffix(tc.GetTypeUrl(), "RawBuffer") {
		return "plaintext"
	}
	if strings.HasSuffix(tc.GetTypeUrl(), "UpstreamTlsContext") {
		u := &tlsv3.UpstreamTlsContext{}
		if err := proto.Unmarshal(tc.GetValue(), u); err != nil {
			return "unknown"
		}
		c := u.GetCommonTlsContext()
		if len(c.GetTlsCertificateSdsSecretConfigs()) > 0 || len(c.GetTlsCertificates()) > 0 || c.GetTlsCertificateProviderInstance() != nil {
			return "mtls"
		}
		return "tls"
	}
	return tc.GetTypeUrl()
}

func stringFields(s *structpb.Struct) map[string]string {
	out := map[string]string{}
	for k, v := range s.GetFields() {
		if x, ok := v.GetKind().(*structpb.Value_StringValue); ok {
			out[k] = x.StringValue
		}
	}
	return out
}

func socketMatchesOf(c *clusterv3.Cluster) []socketMatch {
	var out []socketMatch
	for _, m := range c.GetTransportSocketMatches() {
		out = append(out, socketMatch{Name: m.GetName(), Match: stringFields(m.GetMatch()), Transport: transportOf(m.GetTransportSocket())})
	}
	return out
}

// transportFor is Envoy's choice for one endpoint: the first match whose keys all equal the
// endpoint's envoy.transport_socket_match metadata, else the cluster's own transport socket.
func transportFor(c *clusterv3.Cluster, md map[string]string) string {
	for _, m := range socketMatchesOf(c) {
		all := true
		for k, v := range m.Match {
			if md[k] != v {
				all = false
			}
		}
		if all {
			return m.Transport
		}
	}
	return transportOf(c.GetTransportSocket())
}

func endpointsOf(cla *endpointv3.ClusterLoadAssignment, c *clusterv3.Cluster) []endpoint {
	out := []endpoint{}
	for _, l := range cla.GetEndpoints() {
		for _, e := range l.GetLbEndpoints() {
			sa := e.GetEndpoint().GetAddress().GetSocketAddress()
			ep := endpoint{
				Address: sa.GetAddress(), Port: int(sa.GetPortValue()),
				Region: l.GetLocality().GetRegion(), Zone: l.GetLocality().GetZone(), SubZone: l.GetLocality().GetSubZone(),
				Priority: int(l.GetPriority()), LocalityWeight: int(l.GetLoadBalancingWeight().GetValue()),
				Weight: int(e.GetLoadBalancingWeight().GetValue()), Health: e.GetHealthStatus().String(),
			}
			if md := e.GetMetadata().GetFilterMetadata()["istio"]; md != nil {
				ep.Labels = stringFields(md)
			}
			tsm := stringFields(e.GetMetadata().GetFilterMetadata()["envoy.transport_socket_match"])
			ep.TLSMode = tsm["tlsMode"]
			ep.Transport = transportFor(c, tsm)
			out = append(out, ep)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Address != out[j].Address {
			return out[i].Address < out[j].Address
		}
		return out[i].Port < out[j].Port
	})
	return out
}

func (p *probe) view(at int64, summary bool) view {
	v := view{At: at, Clusters: []cluster{}, Routes: map[string][]virtualHost{}, Listeners: []listener{}, CdsResponses: p.cdsN, EdsResponses: p.edsN, RdsResponses: p.rdsN, LdsResponses: p.ldsN, AllClusters: len(p.clusters), AllListeners: len(p.lis)}
	for name, c := range p.clusters {
		host, port, ok := parseOutbound(name)
		if !ok || !p.matches(host) {
			continue
		}
		out := cluster{Name: name, Type: c.GetType().String(), Host: host, Port: port, Protocol: protocolOf(c)}
		if c.GetType() == clusterv3.Cluster_EDS {
			out.EdsServiceName = c.GetEdsClusterConfig().GetServiceName()
			n := out.EdsServiceName
			if n == "" {
				n = name
			}
			out.Endpoints = endpointsOf(p.cla[n], c)
		} else {
			out.Endpoints = endpointsOf(c.GetLoadAssignment(), c)
		}
		out.TransportSocketMatches = socketMatchesOf(c)
		out.TransportSocket = transportOf(c.GetTransportSocket())
		if md := c.GetMetadata().GetFilterMetadata()["istio"]; md != nil {
			for _, s := range md.GetFields()["services"].GetListValue().GetValues() {
				m := map[string]string{}
				for k, f := range s.GetStructValue().GetFields() {
					m[k] = f.GetStringValue()
				}
				out.Services = append(out.Services, m)
			}
		}
		out.EndpointCount = len(out.Endpoints)
		if summary {
			out.Services = nil
		}
		v.Clusters = append(v.Clusters, out)
	}
	sort.Slice(v.Clusters, func(i, j int) bool { return v.Clusters[i].Name < v.Clusters[j].Name })
	for _, rn := range p.rdsNames {
		for _, vh := range p.routes[rn].GetVirtualHosts() {
			keep := false
			for _, d := range vh.GetDomains() {
				if p.matches(d) {
					keep = true
				}
			}
			if !keep {
				continue
			}
			out := virtualHost{Name: vh.GetName(), Domains: vh.GetDomains(), Clusters: []string{}}
			for _, r := range vh.GetRoutes() {
				if c := r.GetRoute().GetCluster(); c != "" {
					out.Clusters = append(out.Clusters, c)
				}
				for _, w := range r.GetRoute().GetWeightedClusters().GetClusters() {
					out.Clusters = append(out.Clusters, w.GetName())
				}
			}
			v.Routes[rn] = append(v.Routes[rn], out)
		}
	}
	v.Listeners = p.listenersView()
	if summary {
		// counts only: keep cluster names and endpoint counts small on stdout
		for i := range v.Clusters {
			v.Clusters[i].Endpoints = v.Clusters[i].Endpoints[:0:0]
		}
		v.Routes = map[string][]virtualHost{}
		v.Listeners = []listener{}
	}
	return v
}

func chainOf(fc *listenerv3.FilterChain) filterChain {
	out := filterChain{Name: fc.GetName(), Filters: []string{}}
	m := fc.GetFilterChainMatch()
	out.DestinationPort = int(m.GetDestinationPort().GetValue())
	for _, r := range m.GetPrefixRanges() {
		out.PrefixRanges = append(out.PrefixRanges, fmt.Sprintf("%s/%d", r.GetAddressPrefix(), r.GetPrefixLen().GetValue()))
	}
	out.TransportProtocol = m.GetTransportProtocol()
	out.ApplicationProtocols = m.GetApplicationProtocols()
	out.ServerNames = m.GetServerNames()
	if fc.GetTransportSocket() != nil {
		out.TransportSocket = transportOf(fc.GetTransportSocket())
	}
	for _, f := range fc.GetFilters() {
		out.Filters = append(out.Filters, f.GetName())
		tc := f.GetTypedConfig()
		switch {
		case tc == nil:
		case strings.HasSuffix(tc.GetTypeUrl(), "tcp_proxy.v3.TcpProxy"):
			t := &tcpproxyv3.TcpProxy{}
			if proto.Unmarshal(tc.GetValue(), t) == nil {
				out.Cluster = t.GetCluster()
				for _, w := range t.GetWeightedClusters().GetClusters() {
					out.Clusters = append(out.Clusters, w.GetName())
				}
			}
		case strings.HasSuffix(tc.GetTypeUrl(), "http_connection_manager.v3.HttpConnectionManager"):
			h := &hcmv3.HttpConnectionManager{}
			if proto.Unmarshal(tc.GetValue(), h) == nil {
				out.Route = h.GetRds().GetRouteConfigName()
			}
		}
	}
	return out
}

// listenersView keeps the listeners a matching service can be reached through: a filter chain
// whose tcp_proxy names a matching cluster, or whose HTTP route is one the probe subscribed to.
func (p *probe) listenersView() []listener {
	routes := map[string]bool{}
	for _, r := range p.rdsNames {
		routes[r] = true
	}
	leads := func(fc filterChain) bool {
		for _, c := range append([]string{fc.Cluster}, fc.Clusters...) {
			if host, _, ok := parseOutbound(c); ok && p.matches(host) {
				return true
			}
		}
		return fc.Route != "" && routes[fc.Route]
	}
	out := []listener{}
	for _, l := range p.lis {
		sa := l.GetAddress().GetSocketAddress()
		v := listener{Name: l.GetName(), Address: sa.GetAddress(), Port: int(sa.GetPortValue()), FilterChains: []filterChain{}}
		for _, a := range l.GetAdditionalAddresses() {
			v.Extra = append(v.Extra, a.GetAddress().GetSocketAddress().GetAddress())
		}
		keep := false
		for _, fc := range l.GetFilterChains() {
			c := chainOf(fc)
			keep = keep || leads(c)
			v.FilterChains = append(v.FilterChains, c)
		}
		if l.GetDefaultFilterChain() != nil {
			c := chainOf(l.GetDefaultFilterChain())
			keep = keep || leads(c)
			v.DefaultChain = &c
		}
		if keep {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// viewKey ignores the counters and time so that -watch prints only real changes.
func (p *probe) viewKey(v view) string {
	v.At, v.CdsResponses, v.EdsResponses, v.RdsResponses, v.LdsResponses = 0, 0, 0, 0, 0
	b, _ := json.Marshal(v)
	return string(b)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
