// xds-probe connects to istiod's ADS as a sidecar would and prints, as JSON, the outbound
// clusters (CDS), their endpoints (EDS) and the HTTP virtual hosts (RDS) that istiod serves.
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
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
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
)

type cluster struct {
	Name           string              `json:"name"`
	Type           string              `json:"type"`
	EdsServiceName string              `json:"edsServiceName,omitempty"`
	Host           string              `json:"host"`
	Port           int                 `json:"port"`
	Protocol       string              `json:"protocol"` // http2 | downstream | default (no upstream protocol option: HTTP/1.1 or TCP)
	Services       []map[string]string `json:"services,omitempty"`
	Endpoints      []endpoint          `json:"endpoints"` // from EDS, or inline for DNS clusters
	EndpointCount  int                 `json:"endpointCount"`
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
	Labels         map[string]string `json:"labels,omitempty"` // istio filter metadata: workload, labels when istiod sends them
}

type virtualHost struct {
	Name     string   `json:"name"`
	Domains  []string `json:"domains"`
	Clusters []string `json:"clusters"`
}

type view struct {
	At           int64                    `json:"at"` // unix ms when the response completing this view arrived
	Clusters     []cluster                `json:"clusters"`
	Routes       map[string][]virtualHost `json:"routes"` // RDS route name (the port) -> matching virtual hosts
	CdsResponses int                      `json:"cdsResponses"`
	EdsResponses int                      `json:"edsResponses"`
	RdsResponses int                      `json:"rdsResponses"`
	AllClusters  int                      `json:"allClusters"` // every cluster istiod sent, matching or not
}

type probe struct {
	match    []string
	stream   discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	sendq    chan *discoveryv3.DiscoveryRequest
	node     *corev3.Node
	clusters map[string]*clusterv3.Cluster
	cla      map[string]*endpointv3.ClusterLoadAssignment
	routes   map[string]*routev3.RouteConfiguration
	edsNames []string
	rdsNames []string
	edsSeen  bool
	rdsSeen  bool
	cdsN     int
	edsN     int
	rdsN     int
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
	meta, _ := structpb.NewStruct(map[string]any{
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
	})
	p := &probe{
		stream:   stream,
		sendq:    make(chan *discoveryv3.DiscoveryRequest, 1<<16),
		node:     &corev3.Node{Id: fmt.Sprintf("sidecar~%s~%s.%s~%s.svc.cluster.local", *ip, *pod, *ns, *ns), Cluster: *pod + "." + *ns, Metadata: meta},
		clusters: map[string]*clusterv3.Cluster{},
		cla:      map[string]*endpointv3.ClusterLoadAssignment{},
		routes:   map[string]*routev3.RouteConfiguration{},
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
			fail("no complete CDS+EDS+RDS view from %s within %s (is istiod up? bash scripts/peers/istiod.sh up)", *addr, *timeout)
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

func (p *probe) complete() bool { return p.cdsN > 0 && p.edsSeen && p.rdsSeen }

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

func endpointsOf(cla *endpointv3.ClusterLoadAssignment) []endpoint {
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
				ep.Labels = map[string]string{}
				for k, v := range md.GetFields() {
					if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
						ep.Labels[k] = s.StringValue
					}
				}
			}
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
	v := view{At: at, Clusters: []cluster{}, Routes: map[string][]virtualHost{}, CdsResponses: p.cdsN, EdsResponses: p.edsN, RdsResponses: p.rdsN, AllClusters: len(p.clusters)}
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
			out.Endpoints = endpointsOf(p.cla[n])
		} else {
			out.Endpoints = endpointsOf(c.GetLoadAssignment())
		}
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
	if summary {
		// counts only: keep cluster names and endpoint counts small on stdout
		for i := range v.Clusters {
			v.Clusters[i].Endpoints = v.Clusters[i].Endpoints[:0:0]
		}
		v.Routes = map[string][]virtualHost{}
	}
	return v
}

// viewKey ignores the counters and time so that -watch prints only real changes.
func (p *probe) viewKey(v view) string {
	v.At, v.CdsResponses, v.EdsResponses, v.RdsResponses = 0, 0, 0, 0
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
