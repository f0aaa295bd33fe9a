package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Function is a running bootstrap -listen process.
type Function struct {
	// URL is the Lambda Invoke API URL of the function.
	URL string
	// Started is just before the process was started; Listening is when its
	// "listening" line was read.
	Started, Listening time.Time

	cmd      *exec.Cmd
	done     chan struct{}
	stopOnce sync.Once

	mu    sync.Mutex
	lines []string
}

// StartFunction runs bin -listen 127.0.0.1:0 with exactly env (nothing of
// this process's environment) and returns once it is listening. Its output
// is read as it comes, so the "listening" line is seen without polling.
func StartFunction(ctx context.Context, bin string, env []string) (*Function, error) {
	f := &Function{done: make(chan struct{})}
	f.cmd = exec.Command(bin, "-listen", "127.0.0.1:0")
	f.cmd.Env = env
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := f.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := f.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	listening := make(chan string, 1)
	f.Started = time.Now()
	if err := f.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); f.read(stdout, listening) }()
	go func() { defer readers.Done(); f.read(stderr, nil) }()
	go func() {
		readers.Wait() // Wait closes the pipes: read them to the end first
		_ = f.cmd.Wait()
		close(f.done)
	}()

	timeout := time.NewTimer(15 * time.Second)
	defer timeout.Stop()
	select {
	case url := <-listening:
		f.URL = url
		return f, nil
	case <-f.done:
		return nil, fmt.Errorf("%s exited before listening (%s):\n%s", bin, f.cmd.ProcessState, f.Output())
	case <-timeout.C:
		f.Stop()
		return nil, fmt.Errorf("%s not listening after 15s:\n%s", bin, f.Output())
	case <-ctx.Done():
		f.Stop()
		return nil, ctx.Err()
	}
}

// read collects r's lines; the first "listening" line's URL goes to
// listening, stamped.
func (f *Function) read(r io.Reader, listening chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if listening != nil && strings.Contains(line, `"local invoke server listening"`) {
			var l struct {
				URL string `json:"url"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.URL != "" {
				f.mu.Lock()
				f.Listening = time.Now()
				f.mu.Unlock()
				listening <- l.URL
				listening = nil
			}
		}
		f.mu.Lock()
		f.lines = append(f.lines, line)
		f.mu.Unlock()
	}
}

// Output is what the process has written so far (its last 40 lines).
func (f *Function) Output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	lines := f.lines
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// Durations are the durationMs of the function's log lines of migrations,
// by userName. Call it after Stop, which waits for the last lines.
func (f *Function) Durations() map[string]float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]float64{}
	for _, line := range f.lines {
		var l struct {
			Message    string   `json:"message"`
			Outcome    string   `json:"outcome"`
			UserName   string   `json:"userName"`
			DurationMs *float64 `json:"durationMs"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Message == "user migration" && l.Outcome == "migrated" && l.DurationMs != nil {
			out[l.UserName] = *l.DurationMs
		}
	}
	return out
}

// PeakRSS is the process's peak resident set size so far (VmHWM), in bytes.
func (f *Function) PeakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", f.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	return parseVmHWM(b)
}

// parseVmHWM reads the "VmHWM:   12345 kB" line of /proc/PID/status.
func parseVmHWM(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmHWM:"))
		if !ok {
			continue
		}
		fields := strings.Fields(string(rest))
		if len(fields) != 2 || fields[1] != "kB" {
			break
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			break
		}
		return kb * 1024, nil
	}
	return 0, errors.New("peak RSS: no VmHWM line in /proc/PID/status")
}

// Stop ends the process (SIGTERM to its process group, SIGKILL after 5 s)
// and waits for it and for its output to be read. It is safe to call more
// than once.
func (f *Function) Stop() {
	f.stopOnce.Do(func() {
		pid := f.cmd.Process.Pid
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case <-f.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-f.done
		}
	})
}

// Invoker calls functions through the Lambda Invoke API, over kept-alive
// connections, as Cognito's Lambda client would.
type Invoker struct{ client *http.Client }

// NewInvoker returns an Invoker whose calls give up after timeout.
func NewInvoker(timeout time.Duration) *Invoker {
	return &Invoker{client: &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute},
	}}
}

// Invoke sends payload and returns the function's answer; a function error
// (X-Amz-Function-Error) is returned as an error.
func (iv *Invoker) Invoke(ctx context.Context, url string, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := iv.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("invoke: HTTP %d: %s", resp.StatusCode, body)
	}
	if fe := resp.Header.Get("X-Amz-Function-Error"); fe != "" {
		return nil, fmt.Errorf("invoke: function error %s: %s", fe, body)
	}
	return body, nil
}

// CloseIdle closes the kept-alive connections.
func (iv *Invoker) CloseIdle() { iv.client.CloseIdleConnections() }
