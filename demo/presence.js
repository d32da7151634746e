// "Who's here": the chat channel's presence, from the hub (every browser subscribed to the chat,
// over every hub). The list loads when the subscription is made (again after a reconnection) and
// follows the hub's join and leave pushes, which come at most once a second per hub.

/** Names are whatever browsers said when subscribing: shown as text, never markup. */
const nameOf = (member) =>
  typeof member.info?.name === 'string' && member.info.name.trim() ? member.info.name.trim().slice(0, 32) : 'Anonymous';

export function trackPresence(section, subscription) {
  const list = section.querySelector('ul');
  const summary = section.querySelector('.summary');
  const members = new Map();

  const render = () => {
    list.replaceChildren(
      ...[...members.values()]
        .sort((a, b) => nameOf(a).localeCompare(nameOf(b)))
        .map((member) => {
          const item = document.createElement('li');
          item.textContent = nameOf(member);
          item.title = `connection ${member.client}`;
          return item;
        }),
    );
    const count = members.size;
    summary.textContent =
      count === 1 ? '1 browser in the chat (you).' : `${count} browsers in the chat, each with one connection.`;
  };

  const load = async () => {
    try {
      const now = await subscription.presence();
      members.clear();
      for (const member of now) members.set(member.client, member);
      render();
    } catch (error) {
      list.replaceChildren();
      summary.textContent = `Presence is off in this hub's configuration (${error.message}); npm start turns it on.`;
    }
  };

  subscription.on('subscribed', load);
  subscription.on('presence', ({ join, leave }) => {
    for (const member of leave) members.delete(member.client);
    for (const member of join) members.set(member.client, member);
    render();
  });
}
