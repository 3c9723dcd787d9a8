package adminapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/pool"
	"github.com/plinth-dev/plinth/tenants/schema"
)

// The structured table editor (DESIGN.md §4): specs are turned into DDL by
// tenants/schema's builder and run like admin SQL, as the project's owner
// role on the project's own login. ?dry_run=true (or "preview": true in the
// body) answers with the SQL instead of running it, so the dashboard can
// show it first.

type tableJSON struct {
	Name        string       `json:"name"`
	Kind        string       `json:"kind"`
	Comment     string       `json:"comment"`
	Columns     []columnJSON `json:"columns"`
	PrimaryKey  []string     `json:"primary_key"`
	ForeignKeys []fkJSON     `json:"foreign_keys"`
	Indexes     []indexJSON  `json:"indexes"`
}

// columnJSON uses schema.ColumnSpec's names for what a spec can set, plus
// what only the catalog knows (identity, generated, enum labels).
type columnJSON struct {
	Name       string        `json:"name"`
	Type       string        `json:"type"`
	Nullable   bool          `json:"nullable"`
	Default    *string       `json:"default"`
	PrimaryKey bool          `json:"primary_key"`
	Unique     bool          `json:"unique"`
	Identity   bool          `json:"identity"`
	Generated  bool          `json:"generated"`
	Enum       []string      `json:"enum,omitempty"`
	References *referenceOut `json:"references"`
	Comment    string        `json:"comment"`
}

type referenceOut struct {
	Table      string `json:"table"`
	Column     string `json:"column"`
	OnDelete   string `json:"on_delete"`
	OnUpdate   string `json:"on_update"`
	Constraint string `json:"constraint"`
}

type fkJSON struct {
	Name       string   `json:"name"`
	Columns    []string `json:"columns"`
	RefTable   string   `json:"referenced_table"`
	RefColumns []string `json:"referenced_columns"`
	OnDelete   string   `json:"on_delete"`
	OnUpdate   string   `json:"on_update"`
}

type indexJSON struct {
	Name       string   `json:"name"`
	Columns    []string `json:"columns"`
	Unique     bool     `json:"unique"`
	Primary    bool     `json:"primary"`
	Method     string   `json:"method"`
	Constraint string   `json:"constraint,omitempty"`
	Definition string   `json:"definition"`
}

// localType drops the project schema's qualification from a type name (the
// catalog is read from the control plane, whose search_path lacks it).
func localType(schemaName, t string) string {
	for _, prefix := range []string{schemaName + ".", `"` + schemaName + `".`} {
		if rest, ok := strings.CutPrefix(t, prefix); ok {
			return rest
		}
	}
	return t
}

func tableOut(s *schema.Schema, t *schema.Table) tableJSON {
	out := tableJSON{Name: t.Name, Kind: t.Kind, Comment: t.Comment, PrimaryKey: t.PrimaryKey,
		Columns: []columnJSON{}, ForeignKeys: []fkJSON{}, Indexes: []indexJSON{}}
	if out.PrimaryKey == nil {
		out.PrimaryKey = []string{}
	}
	unique := map[string]bool{}
	for _, ix := range t.Indexes {
		if ix.Unique && len(ix.Columns) == 1 && !strings.Contains(ix.Definition, " WHERE ") {
			unique[ix.Columns[0]] = true
		}
		out.Indexes = append(out.Indexes, indexJSON{Name: ix.Name, Columns: ix.Columns, Unique: ix.Unique, Primary: ix.Primary,
			Method: ix.Method, Constraint: ix.Constraint, Definition: ix.Definition})
	}
	refs := map[string]*referenceOut{}
	for _, fk := range t.ForeignKeys {
		out.ForeignKeys = append(out.ForeignKeys, fkJSON{Name: fk.Name, Columns: fk.Columns, RefTable: fk.RefTable,
			RefColumns: fk.RefColumns, OnDelete: fk.OnDelete, OnUpdate: fk.OnUpdate})
		if len(fk.Columns) == 1 {
			refs[fk.Columns[0]] = &referenceOut{Table: fk.RefTable, Column: fk.RefColumns[0], OnDelete: fk.OnDelete, OnUpdate: fk.OnUpdate, Constraint: fk.Name}
		}
	}
	for _, c := range t.Columns {
		col := columnJSON{Name: c.Name, Type: localType(s.Name, c.Type), Nullable: c.Nullable, PrimaryKey: c.IsPK,
			Unique: unique[c.Name] && !c.IsPK, Identity: c.Identity, Generated: c.Generated, Enum: c.EnumVals,
			References: refs[c.Name], Comment: c.Comment}
		if c.Default != "" && !c.Identity {
			d := c.Default
			col.Default = &d
		}
		out.Columns = append(out.Columns, col)
	}
	return out
}

func (a *API) listTables(c *fiber.Ctx) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	s, err := a.d.Schemas.Get(c.UserContext(), project(c).Ref)
	if err != nil {
		return err
	}
	names := s.TableNames()
	out := []tableJSON{}
	for i := offset; i < len(names) && len(out) < limit; i++ {
		out = append(out, tableOut(s, s.Tables[names[i]]))
	}
	return list(c, out, len(out), offset, len(names))
}

func (a *API) showTable(c *fiber.Ctx) error {
	s, err := a.d.Schemas.Get(c.UserContext(), project(c).Ref)
	if err != nil {
		return err
	}
	name := c.Params("name")
	t, ok := s.Table(name)
	if !ok {
		return schema.ErrTableNotFound(name)
	}
	return c.JSON(tableOut(s, t))
}

// dryRun reads ?dry_run= (the body's "preview" is the other way to ask).
func dryRun(c *fiber.Ctx) (bool, error) {
	v := c.Query("dry_run")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "dry_run must be true or false")
	}
	return b, nil
}

// freshSchema reads the catalog now rather than from the cache: a spec is
// checked against what exists, and the cache may lag a change made through
// another instance.
func (a *API) freshSchema(c *fiber.Ctx) (*schema.Schema, error) {
	return schema.Load(c.UserContext(), a.d.Store.Pool, project(c).Schema)
}

func (a *API) createTable(c *fiber.Ctx) error {
	dry, err := dryRun(c)
	if err != nil {
		return err
	}
	var in struct {
		schema.TableSpec
		Preview bool `json:"preview"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	s, err := a.freshSchema(c)
	if err != nil {
		return err
	}
	stmts, err := schema.CreateTable(s, in.TableSpec)
	if err != nil {
		return err
	}
	if done, err := a.applyDDL(c, dry || in.Preview, stmts, "table.create", in.Name); done || err != nil {
		return err
	}
	return a.respondTable(c, http.StatusCreated, in.Name)
}

func (a *API) alterTable(c *fiber.Ctx) error {
	dry, err := dryRun(c)
	if err != nil {
		return err
	}
	var in struct {
		schema.AlterSpec
		Preview bool `json:"preview"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	s, err := a.freshSchema(c)
	if err != nil {
		return err
	}
	name := c.Params("name")
	stmts, err := schema.AlterTable(s, name, in.AlterSpec)
	if err != nil {
		return err
	}
	if done, err := a.applyDDL(c, dry || in.Preview, stmts, "table.alter", name); done || err != nil {
		return err
	}
	if in.RenameTo != "" {
		name = in.RenameTo
	}
	return a.respondTable(c, http.StatusOK, name)
}

func (a *API) dropTable(c *fiber.Ctx) error {
	dry, err := dryRun(c)
	if err != nil {
		return err
	}
	cascade := false
	if v := c.Query("cascade"); v != "" {
		if cascade, err = strconv.ParseBool(v); err != nil {
			return apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "cascade must be true or false")
		}
	}
	s, err := a.freshSchema(c)
	if err != nil {
		return err
	}
	name := c.Params("name")
	stmts, err := schema.DropTable(s, name, cascade)
	if err != nil {
		return err
	}
	if done, err := a.applyDDL(c, dry, stmts, "table.drop", name); done || err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// applyDDL answers a dry run with the statements (done = true), or runs them
// in one transaction as the project's owner, reloads the schema cache on
// every instance and writes the audit record.
func (a *API) applyDDL(c *fiber.Ctx, dry bool, stmts []string, action, target string) (done bool, err error) {
	sql := strings.Join(stmts, ";\n") + ";"
	if dry {
		return true, c.JSON(fiber.Map{"dry_run": true, "sql": sql, "statements": stmts})
	}
	p := project(c)
	ctx := c.UserContext()
	tp, err := a.d.Pools.Get(ctx, p.Ref)
	if err != nil {
		return true, err
	}
	_, runErr := pool.Script(ctx, tp, p.Schema+"_owner", p.Schema, a.d.StatementTimeout, sql)
	// Reload even after a failure: it is cheap, and never wrong.
	_ = store.Notify(ctx, a.d.Store.Pool, store.ChannelSchema, p.Ref)
	a.d.Schemas.Invalidate(p.Ref)
	if runErr != nil {
		return true, sqlError(runErr)
	}
	rec := store.Audit{ProjectRef: p.Ref, Actor: caller(c).actor(), Action: action, Target: target,
		Detail: map[string]any{"sql": truncate(sql, 2000)}}
	return false, store.WriteAudit(ctx, a.d.Store.Pool, rec)
}

func (a *API) respondTable(c *fiber.Ctx, status int, name string) error {
	s, err := a.d.Schemas.Get(c.UserContext(), project(c).Ref)
	if err != nil {
		return err
	}
	t, ok := s.Table(name)
	if !ok { // dropped again by someone else in between
		return schema.ErrTableNotFound(name)
	}
	return c.Status(status).JSON(tableOut(s, t))
}
