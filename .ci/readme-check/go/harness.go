// Runs the README's Go snippet (verify, written beside this file as snippet.go by
// check.py in a copy of this directory) on a captured push: the real body must
// verify, the body with one more byte must not.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
)

func main() {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var push struct {
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	if err := json.Unmarshal(raw, &push); err != nil {
		panic(err)
	}
	header := http.Header{}
	for name, value := range push.Headers {
		header.Set(name, value)
	}
	event, err := verify(header, []byte(push.Body))
	if err != nil {
		fmt.Fprintln(os.Stderr, "a real push did not verify:", err)
		os.Exit(1)
	}
	if event["type"] != "shipment.created" {
		fmt.Fprintln(os.Stderr, "unexpected event", event)
		os.Exit(1)
	}
	if _, err := verify(header, []byte(push.Body+" ")); err == nil {
		fmt.Fprintln(os.Stderr, "the tampered body verified")
		os.Exit(1)
	}
	fmt.Println("go snippet: verified a real push and refused a tampered one")
}
