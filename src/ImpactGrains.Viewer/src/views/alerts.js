// Alert rules and the alerts they fired, with their webhook delivery.
import { api, justAfter } from '../api.js';
import { h, replace, table } from '../dom.js';
import * as fmt from '../format.js';
import * as live from '../live.js';
import { pageHeader, section, entityLink, groupLink, failure, loading, asOfText } from './common.js';

const metricLabels = {
  score: 'score', operational: 'operational score', market: 'market score', financial: 'financial score',
  reputational: 'reputational score', trend24h: 'change in 24 h', spike: 'outage spike (z-score)',
};

const deliveryLabels = { pending: 'Pending', delivered: 'Delivered', failed: 'Failed', cancelled: 'Cancelled' };

function targetCell(target, entity, group) {
  if (target === '*') return entity ? [entityLink(entity), ' (any entity rule)'] : 'any entity';
  if (target.startsWith('group:')) return groupLink(target.slice(6));
  return entityLink(target);
}

export function alertsView(main, route, ctx) {
  const alertsBox = h('div', { 'data-testid': 'alerts' }, loading('the alerts'));
  const rulesBox = h('div', { 'data-testid': 'rules' }, loading('the rules'));
  replace(main,
    pageHeader('Alerts', 'An alert fires when a score, a category, the 24-hour change or an outage spike reaches a rule’s threshold; each one is sent to the rule’s webhook, signed.'),
    section('Fired alerts', `Newest first, ${ctx.at ? `up to ${fmt.when(ctx.at)}` : 'appearing here as they fire'}.`, alertsBox),
    section('Rules', 'What is watched. Rules are managed with POST /api/alert-rules.', rulesBox));

  async function loadAlerts() {
    try {
      const { alerts } = await api.alerts({ limit: 50, before: justAfter(ctx.at) }, ctx.signal);
      replace(alertsBox, alerts.length
        ? table('Fired alerts', ['When', 'What', 'Rule', { text: 'Value', class: 'num' }, { text: 'Threshold', class: 'num' }, 'Webhook delivery'],
          alerts.map((a) => h('tr', { 'data-alert': a.id },
            h('td', null, h('time', { datetime: a.at, text: fmt.when(a.at) })),
            h('th', { scope: 'row' }, targetCell(a.target, a.entity, a.group), ` — ${metricLabels[a.metric] ?? a.metric}`),
            h('td', { class: 'event-id', text: a.ruleId }),
            h('td', { class: 'num', text: fmt.score(a.value) }),
            h('td', { class: 'num', text: fmt.score(a.threshold) }),
            h('td', null, h('span', { class: `badge delivery-${a.delivery?.status}`, text: deliveryLabels[a.delivery?.status] ?? a.delivery?.status ?? '—' }),
              a.delivery ? ` after ${a.delivery.attempts} attempt${a.delivery.attempts === 1 ? '' : 's'}` : ''))))
        : h('p', { class: 'empty', text: `No alert has fired ${ctx.at ? `before ${fmt.when(ctx.at)}` : 'yet'}.` }));
    } catch (error) {
      if (!ctx.signal.aborted) replace(alertsBox, failure(error, 'alerts'));
    }
  }

  async function loadRules() {
    try {
      const rules = await api.alertRules(ctx.signal);
      replace(rulesBox, rules.length
        ? table('Alert rules', ['Target', 'Metric', { text: 'Threshold', class: 'num' }, 'At most once per', 'Created'],
          rules.map((r) => h('tr', null,
            h('th', { scope: 'row' }, targetCell(r.target)),
            h('td', { text: metricLabels[r.metric] ?? r.metric }),
            h('td', { class: 'num', text: r.threshold }),
            h('td', { text: r.coolDown }),
            h('td', null, h('time', { datetime: r.createdAt, text: fmt.when(r.createdAt) })))))
        : h('p', { class: 'empty', text: 'No rules yet.' }));
    } catch (error) {
      if (!ctx.signal.aborted) replace(rulesBox, failure(error, 'rules'));
    }
  }

  loadAlerts();
  loadRules();
  if (!ctx.at) {
    const refresh = live.throttle(loadAlerts, 500);
    ctx.onCleanup(live.on('alert', refresh));
    ctx.onCleanup(live.on('reset', refresh));
    ctx.onCleanup(() => refresh.cancel());
  }
  return {};
}
