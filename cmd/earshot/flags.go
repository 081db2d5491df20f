package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
)

// envString defines a string flag whose default comes from the environment
// variable env when it is set.
func envString(fs *flag.FlagSet, name, env, def, usage string) *string {
	if v, ok := os.LookupEnv(env); ok {
		def = v
	}
	return fs.String(name, def, usage+" (env "+env+")")
}

// envInt defines an int flag whose default comes from env when it is set
// to an integer. A malformed value is reported by checkEnv.
func envInt(fs *flag.FlagSet, name, env string, def int, usage string) *int {
	return fs.Int(name, envDefault(env, def, strconv.Atoi, "an integer"), usage+" (env "+env+")")
}

// envFloat defines a float64 flag whose default comes from env when it is
// set to a number. A malformed value is reported by checkEnv.
func envFloat(fs *flag.FlagSet, name, env string, def float64, usage string) *float64 {
	parse := func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
	return fs.Float64(name, envDefault(env, def, parse, "a number"), usage+" (env "+env+")")
}

// envBool defines a bool flag (default false) whose default comes from env
// when it is set to a boolean. A malformed value is reported by checkEnv.
func envBool(fs *flag.FlagSet, name, env, usage string) *bool {
	return fs.Bool(name, envDefault(env, false, strconv.ParseBool, "a boolean"), usage+" (env "+env+")")
}

// envDefault is env's value parsed by parse, or def when env is unset or
// malformed (then remembered for checkEnv).
func envDefault[T any](env string, def T, parse func(string) (T, error), kind string) T {
	v, ok := os.LookupEnv(env)
	if !ok {
		return def
	}
	parsed, err := parse(v)
	if err != nil {
		badEnv = append(badEnv, fmt.Sprintf("%s=%q is not %s", env, v, kind))
		return def
	}
	return parsed
}

var badEnv []string

// checkEnv reports environment variables that could not be parsed.
func checkEnv() error {
	if len(badEnv) > 0 {
		return fmt.Errorf("bad environment: %s", strings.Join(badEnv, "; "))
	}
	return nil
}

// newLogger returns a text logger on w at level ("debug", "info", "warn",
// "error").
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad log level %q: %w", level, err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
