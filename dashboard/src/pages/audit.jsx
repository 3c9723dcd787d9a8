import { useState } from 'preact/hooks';
import { api, enc, total } from '../api.js';
import { Page, Result, useAsync } from '../ui.jsx';

const PAGE = 50;

export function Audit({ ref_: ref }) {
  const [offset, setOffset] = useState(0);
  const log = useAsync(async () => {
    const r = await api('GET', `/projects/${enc(ref)}/audit?limit=${PAGE}&offset=${offset}`, undefined, { raw: true });
    return { rows: r.data, total: total(r.headers) };
  }, [ref, offset]);
  return (
    <Page title="Audit log">
      <Result state={log} what="The audit log">
        {({ rows, total: n }) => (
          <div>
            {rows.length === 0 ? <p class="muted">No changes recorded yet.</p> : (
              <div class="grid-wrap" tabIndex={0} role="region" aria-label="Audit records">
                <table class="grid">
                  <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Detail</th></tr></thead>
                  <tbody>{rows.map((a) => (
                    <tr key={a.id}>
                      <td><time dateTime={a.at}>{new Date(a.at).toLocaleString()}</time></td>
                      <td>{a.actor}</td><td><code>{a.action}</code></td><td>{a.target}</td>
                      <td class="detail-cell">{a.detail && Object.keys(a.detail).length ? JSON.stringify(a.detail) : ''}</td>
                    </tr>
                  ))}</tbody>
                </table>
              </div>
            )}
            <nav class="pager" aria-label="Pages">
              <button type="button" class="small secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Newer</button>
              <span>{n != null ? `${n} record${n === 1 ? '' : 's'}` : ''}</span>
              <button type="button" class="small secondary" disabled={rows.length < PAGE} onClick={() => setOffset(offset + PAGE)}>Older</button>
            </nav>
          </div>
        )}
      </Result>
    </Page>
  );
}
