// go-oracle prints what Go itself makes of inputs that katabot's config decoder must treat as Prow does, so
// test fixtures hold Go's answers rather than katabot's. It is a development tool, not part of katabot.
//
// Build with Debian's packages (no module downloads):
//
//	apt-get install golang-go golang-k8s-sigs-yaml-dev golang-gopkg-yaml.v2-dev
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o /tmp/go-oracle scripts/go-oracle/main.go
//
// Modes (one JSON string per input line on stdin, one JSON object per output line):
//
//	scalar    sigs.k8s.io/yaml.Unmarshal of the plain scalar into a Go string field ("s"), an interface{} field
//	          ("a") and as a map key ("key")
//	duration  time.ParseDuration then Duration.String() ("out") or the error ("err")
//	float     encoding/json of the float64 the input parses to ("out")
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"sigs.k8s.io/yaml"
)

type scalarTarget struct {
	S  string            `json:"s"`
	A  interface{}       `json:"a"`
	SM map[string]string `json:"sm"`
}

func main() {
	mode := "scalar"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var in string
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			panic(err)
		}
		out := map[string]interface{}{"in": in}
		switch mode {
		case "scalar":
			var t scalarTarget
			doc := fmt.Sprintf("s: %s\na: %s\nsm: {%s: v}\n", in, in, in)
			if err := yaml.Unmarshal([]byte(doc), &t); err != nil {
				out["err"] = err.Error()
				break
			}
			out["s"] = t.S
			out["a"] = t.A
			for k := range t.SM {
				out["key"] = k
			}
		case "duration":
			d, err := time.ParseDuration(in)
			if err != nil {
				out["err"] = err.Error()
			} else {
				out["out"] = d.String()
			}
		case "float":
			f, err := strconv.ParseFloat(in, 64)
			if err != nil {
				out["err"] = err.Error()
				break
			}
			b, err := json.Marshal(f)
			if err != nil {
				out["err"] = err.Error()
			} else {
				out["out"] = string(b)
			}
		}
		b, _ := json.Marshal(out)
		fmt.Println(string(b))
	}
}
