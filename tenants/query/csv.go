package query

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// CodeBody is PostgREST's code for a request body it cannot read.
const CodeBody = "PGRST102"

// CSVBody turns a text/csv request body (a header line naming the columns,
// then one line per row) into the JSON array of objects the write path
// takes, as PostgREST accepts CSV for inserts. Values stay strings for
// Postgres to convert to the column types; a field reading NULL is null.
func CSVBody(body []byte) ([]byte, error) {
	if !utf8.Valid(body) {
		return nil, &Error{Code: CodeBody, Message: "Empty or invalid CSV", Details: "the body is not valid UTF-8", Pos: -1}
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Code: CodeBody, Message: "Empty or invalid CSV", Details: "the body has no header line", Pos: -1}
		}
		return nil, csvError(err)
	}
	cols := make([][]byte, len(header))
	for i, h := range header {
		if cols[i], err = json.Marshal(h); err != nil {
			return nil, csvError(err)
		}
	}
	out := []byte{'['}
	for n := 0; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, '{')
		for i, v := range rec {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(append(out, cols[i]...), ':')
			if v == "NULL" {
				out = append(out, "null"...)
				continue
			}
			q, err := json.Marshal(v)
			if err != nil {
				return nil, csvError(err)
			}
			out = append(out, q...)
		}
		out = append(out, '}')
	}
	return append(out, ']'), nil
}

func csvError(err error) error {
	return &Error{Code: CodeBody, Message: "Empty or invalid CSV", Details: echo(err.Error()), Pos: -1}
}
