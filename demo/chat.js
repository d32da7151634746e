// `<chat-room>`: a chat on one channel of the page's connection. Messages are
// { name, text, at } published by the browsers themselves (and by the simulated ops bot).
import { badgeText, clock, describeReason, trackRecovery } from './status.js';

const ADJECTIVES = ['Amber', 'Brisk', 'Calm', 'Keen', 'Lucky', 'Quiet', 'Swift', 'Witty'];
const ANIMALS = ['Fox', 'Heron', 'Lynx', 'Otter', 'Owl', 'Panda', 'Seal', 'Wren'];
const NAME_KEY = 'switchboard-demo-name';
const KEPT = 50;

const randomName = () =>
  `${ADJECTIVES[Math.floor(Math.random() * ADJECTIVES.length)]} ${ANIMALS[Math.floor(Math.random() * ANIMALS.length)]}`;

/** A hue per name, so a reader tells people apart; text stays dark enough to read on white. */
function hue(name) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)) % 360;
  return hash;
}

class ChatRoom extends HTMLElement {
  connectedCallback() {
    const channel = this.getAttribute('channel');
    this.setAttribute('role', 'region');
    this.setAttribute('aria-label', 'Chat');
    this.innerHTML = `<header><h2>Chat</h2><span class="badge" role="status"></span></header>
      <label class="name">Your name <input name="name" maxlength="32" autocomplete="nickname" required /></label>
      <ol class="messages" role="log" aria-live="polite" aria-label="Messages"><li class="empty">No message yet: say hello.</li></ol>
      <form class="compose">
        <label class="visually-hidden" for="chat-text">Message</label>
        <input id="chat-text" name="text" maxlength="500" autocomplete="off" placeholder="Write a message and press Enter" required />
        <button type="submit">Send</button>
      </form>
      <output class="sent" aria-live="polite"></output>`;
    this.list = this.querySelector('.messages');
    this.badge = this.querySelector('.badge');
    this.nameInput = this.querySelector('input[name=name]');
    this.nameInput.value = localStorage.getItem(NAME_KEY) ?? randomName();
    this.nameInput.addEventListener('change', () => localStorage.setItem(NAME_KEY, this.name()));
    this.querySelector('form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.send();
    });
    // The name shows in "Who's here" (the demo namespace lets clients give presence info).
    this.subscription = this.connection.subscribe(channel, { info: { name: this.name() } });
    trackRecovery(this.subscription, (state) => {
      this.badge.textContent = badgeText(state);
      this.badge.dataset.kind = state.kind;
      this.badge.title = state.kind === 'lost' ? describeReason(state.reason) : '';
      this.dispatchEvent(new CustomEvent('recovery', { bubbles: true, detail: { channel, ...state } }));
    });
    this.subscription.on('publication', ({ data }) => this.add(data));
  }

  disconnectedCallback() {
    this.subscription?.unsubscribe();
  }

  name() {
    return this.nameInput.value.trim() || 'Anonymous';
  }

  async send() {
    const input = this.querySelector('#chat-text');
    const text = input.value.trim();
    if (!text) return;
    const sent = this.querySelector('.sent');
    try {
      await this.connection.publish(this.getAttribute('channel'), { name: this.name(), text, at: Date.now() });
      input.value = '';
      sent.textContent = '';
    } catch (error) {
      sent.textContent = `Not sent: ${error.message}`;
    }
  }

  /** Text nodes only: messages are whatever anyone published, never markup. */
  add(message) {
    if (!message || typeof message.text !== 'string') return;
    this.list.querySelector('.empty')?.remove();
    const row = document.createElement('li');
    const own = message.name === this.name();
    if (own) row.className = 'own';
    if (message.bot) row.classList.add('bot');
    const who = document.createElement('b');
    who.textContent = `${String(message.name ?? 'Anonymous')}${own ? ' (you)' : ''}`;
    who.style.color = `hsl(${hue(String(message.name))} 70% 28%)`;
    const time = document.createElement('time');
    const at = typeof message.at === 'number' ? message.at : Date.now();
    time.dateTime = new Date(at).toISOString();
    time.textContent = clock(at);
    const text = document.createElement('p');
    text.textContent = message.text;
    row.append(who, time, text);
    this.list.append(row);
    while (this.list.children.length > KEPT) this.list.firstElementChild.remove();
    this.list.scrollTop = this.list.scrollHeight;
  }
}

export function defineChat() {
  customElements.define('chat-room', ChatRoom);
}
