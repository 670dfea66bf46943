package validate

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/torqapi/integrations/internal/rpcstatus"
)

// Mode says what the response validator does with a response that breaks
// the contract. It is the one type of the stub's response validation mode,
// from its flag to here.
type Mode string

const (
	// Strict (the zero value's meaning too) reports the violation and
	// answers 500 INTERNAL instead.
	Strict Mode = "strict"
	// Warn reports the violation and serves the response anyway.
	Warn Mode = "warn"
	// Off serves responses unchecked.
	Off Mode = "off"
)

// Report is called with every response that breaks the contract, before it
// is replaced (Strict) or served (Warn); w is the writer underneath the
// validator, its headers as the handler set them; r is the request, nil
// when the caller of Check had none.
type Report func(w http.ResponseWriter, r *http.Request, status int, err error)

// Check validates one response: write writes it to a buffer, and the
// buffered response is validated and then written to w, or in Strict mode
// replaced by a 500 INTERNAL google.rpc.Status when it breaks the contract. r is the request it
// answers; nil stands for a GET of the operation. In Off mode write writes
// to w directly.
func (o *Operation) Check(w http.ResponseWriter, r *http.Request, mode Mode, report Report, write func(http.ResponseWriter)) {
	if mode == Off {
		write(w)
		return
	}
	cw := capturePool.Get().(*captureWriter)
	cw.ResponseWriter = w
	write(cw)
	o.finish(cw, r, mode, report)
	cw.reset()
	capturePool.Put(cw)
}

// finish validates a buffered response and writes it, or its replacement.
func (o *Operation) finish(cw *captureWriter, r *http.Request, mode Mode, report Report) {
	if cw.passthrough {
		return
	}
	w := cw.ResponseWriter
	status := cw.status
	if status == 0 {
		status = http.StatusOK
	}
	body := cw.buf.Bytes()
	if r == nil || r.Method != http.MethodHead {
		if err := o.ValidateResponse(r, status, w.Header(), body); err != nil {
			if report != nil {
				report(w, r, status, err)
			}
			if mode != Warn {
				h := w.Header()
				for k := range h {
					if k != "X-Request-Id" {
						delete(h, k)
					}
				}
				rpcstatus.Write(w, &rpcstatus.Error{Code: rpcstatus.Internal, Message: "Internal error."})
				return
			}
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

var capturePool = sync.Pool{New: func() any { return new(captureWriter) }}

// captureWriter buffers a response until it is validated, unless the
// response declares itself prevalidated before writing anything.
type captureWriter struct {
	http.ResponseWriter
	status      int
	buf         bytes.Buffer
	passthrough bool
}

// Prevalidated tells the response checker that w, the writer a response is
// about to be written to, will receive bytes already validated against the
// contract (the stub's precomputed lists, validated when their data
// loaded): they are written straight through, neither buffered nor
// validated again. It must be called before anything is written; on any
// other writer it does nothing. It reports whether w was a checker's.
func Prevalidated(w http.ResponseWriter) bool {
	cw, ok := w.(*captureWriter)
	if !ok || cw.status != 0 {
		return false
	}
	cw.passthrough = true
	return true
}

// maxPooledBuffer keeps one huge response from pinning its buffer in the
// pool forever.
const maxPooledBuffer = 1 << 20

func (cw *captureWriter) reset() {
	cw.ResponseWriter = nil
	cw.status = 0
	cw.passthrough = false
	if cw.buf.Cap() > maxPooledBuffer {
		cw.buf = bytes.Buffer{}
	}
	cw.buf.Reset()
}

// WriteHeader records the status.
func (cw *captureWriter) WriteHeader(status int) {
	if cw.passthrough {
		cw.ResponseWriter.WriteHeader(status)
		return
	}
	if cw.status == 0 {
		cw.status = status
	}
}

// Write buffers b.
func (cw *captureWriter) Write(b []byte) (int, error) {
	if cw.passthrough {
		return cw.ResponseWriter.Write(b)
	}
	if cw.status == 0 {
		cw.status = http.StatusOK
	}
	return cw.buf.Write(b)
}

// Unwrap gives http.ResponseController the writer underneath.
func (cw *captureWriter) Unwrap() http.ResponseWriter { return cw.ResponseWriter }
